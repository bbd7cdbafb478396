package ai.behemoth.generate;

/**
 * One generated token and the text it makes visible. The text can be empty (the token ends inside
 * a UTF-8 character, or might begin a stop string) or hold more than the token's own bytes (text
 * held back earlier). The last token of a generation that ended on an end-of-text token is that
 * token, with only the held-back text.
 */
public record Token(int id, String text) {}
