/**
 * Tokenizers: text to token ids and back, exactly.
 *
 * <ul>
 *   <li>{@code bytes} ({@link ai.behemoth.tokenizer.ByteTokenizer}): id b is byte b.</li>
 *   <li>Byte-level BPE ({@link ai.behemoth.tokenizer.BpeTokenizer}), as in GPT-2 and Llama 3: text is split by the
 *       Llama 3 expression ({@link ai.behemoth.tokenizer.PreTokenizer}), each piece's UTF-8 bytes start as byte
 *       tokens, and learned merges join them, lowest rank first.</li>
 * </ul>
 *
 * <p>Layout of a trained vocabulary of size N: ids 0..255 are the bytes (id = byte value), then one id per
 * merge in the order learned, then the five special tokens {@code <|begin_of_text|>}, {@code <|end_of_text|>},
 * {@code <|start_header_id|>}, {@code <|end_header_id|>}, {@code <|eot_id|>} as the last five ids. N counts the
 * special tokens (as Llama 3's 128256 does), so the smallest N is 261.
 *
 * <p>Files are Hugging Face {@code tokenizer.json} ({@link ai.behemoth.tokenizer.TokenizerJson}); the Hugging Face
 * library loads them and gives the same ids (tools/hf-tokenizers-check.sh). One difference on purpose: the library
 * turns special-token text found in the input into the special token, while {@link ai.behemoth.tokenizer.Tokenizer#encode}
 * treats it as ordinary text, so that no document can forge a chat-role marker; callers add special ids themselves.
 */
package ai.behemoth.tokenizer;
