package org.lkmpre;

/**
 * Makes text read from an input safe for lkmpre's one-line output: section, symbol and
 * {@code .modinfo} strings in a hostile file may hold newlines or terminal escapes.
 */
public final class OneLine {
    private OneLine() {
    }

    /**
     * @param text any text
     * @return {@code text} with every control character (C0, DEL, C1) written as {@code \xNN}
     */
    public static String of(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
            if (control && out == null) {
                out = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (control) {
                out.append(String.format("\\x%02x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }
}
