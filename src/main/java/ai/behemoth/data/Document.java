package ai.behemoth.data;

/** One training document: UTF-8-validated, NFC-normalised text and where it came from ("file" or "file:line"). */
public record Document(String source, String text) {}
