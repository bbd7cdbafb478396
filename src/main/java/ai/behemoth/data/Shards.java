package ai.behemoth.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Token shard files: {@code train-00000.bin}, {@code val-00000.bin}, ... Each is a flat array of
 * little-endian token ids, {@code uint16} when every id fits (vocabulary of at most 65,536),
 * else {@code uint32}; no header (the manifest says the type), as nanoGPT's and llm.c's loaders
 * expect.
 */
public final class Shards {
    private Shards() {}

    public static final String UINT16 = "uint16", UINT32 = "uint32";

    /** The narrowest type that holds every id of a vocabulary of {@code vocabSize}. */
    public static String dtype(int vocabSize) {
        return vocabSize <= 1 << 16 ? UINT16 : UINT32;
    }

    static int width(String dtype) {
        return switch (dtype) {
            case UINT16 -> 2;
            case UINT32 -> 4;
            default -> throw new IllegalArgumentException("unknown token dtype " + dtype + " (expected uint16 or uint32)");
        };
    }

    static String name(String split, int index) {
        return "%s-%05d.bin".formatted(split, index);
    }

    /** Writes the tokens of one split into shards of at most {@code shardTokens} tokens each. */
    public static final class Writer implements AutoCloseable {
        private final Path folder;
        private final String split;
        private final int width;
        private final long shardTokens;
        private final List<Manifest.Shard> shards = new ArrayList<>();
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private OutputStream out;
        private MessageDigest digest;
        private long inShard, total;

        public Writer(Path folder, String split, String dtype, long shardTokens) {
            if (shardTokens < 1) throw new IllegalArgumentException("shard size " + shardTokens + " tokens is not positive");
            this.folder = folder;
            this.split = split;
            this.width = width(dtype);
            this.shardTokens = shardTokens;
        }

        public void write(int[] ids) throws IOException {
            for (int id : ids) write(id);
        }

        public void write(int id) throws IOException {
            if (out == null) open();
            if (buffer.remaining() < width) flush();
            if (width == 2) buffer.putShort((short) id);
            else buffer.putInt(id);
            inShard++;
            total++;
            if (inShard == shardTokens) finishShard();
        }

        public long tokens() {
            return total;
        }

        /** The shards written, once closed. */
        public List<Manifest.Shard> shards() {
            return List.copyOf(shards);
        }

        private void open() throws IOException {
            out = Files.newOutputStream(folder.resolve(name(split, shards.size())));
            digest = Sha256.digest();
            inShard = 0;
        }

        private void flush() throws IOException {
            buffer.flip();
            digest.update(buffer.array(), 0, buffer.limit());
            out.write(buffer.array(), 0, buffer.limit());
            buffer.clear();
        }

        private void finishShard() throws IOException {
            flush();
            out.close();
            out = null;
            shards.add(new Manifest.Shard(name(split, shards.size()), inShard, Sha256.hex(digest)));
        }

        @Override
        public void close() throws IOException {
            if (out != null) finishShard();
        }
    }

    /**
     * The tokens of one split, with every shard's size and SHA-256 checked against the manifest;
     * a mismatch is an error naming the shard file.
     */
    public static int[] read(Path folder, Manifest.Split split, String dtype) throws IOException {
        int width = width(dtype);
        if (split.tokens() > Integer.MAX_VALUE - 8)
            throw new IOException(folder.resolve(Manifest.FILE) + ": " + split.tokens() + " tokens do not fit in one array");
        int[] tokens = new int[(int) split.tokens()];
        int at = 0;
        for (Manifest.Shard shard : split.shards()) {
            Path file = folder.resolve(shard.name());
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length != shard.tokens() * width)
                throw new IOException(file + ": " + bytes.length + " bytes, but the manifest says " + shard.tokens() + " " + dtype + " tokens");
            if (!Sha256.hex(bytes).equals(shard.sha256()))
                throw new IOException(file + ": SHA-256 does not match manifest.json (the shard changed or is corrupt)");
            if (at + shard.tokens() > tokens.length)
                throw new IOException(file + ": the shards hold more tokens than manifest.json counts for the split");
            ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            while (in.hasRemaining()) tokens[at++] = width == 2 ? Short.toUnsignedInt(in.getShort()) : in.getInt();
        }
        if (at != tokens.length)
            throw new IOException(folder.resolve(Manifest.FILE) + ": the shards hold " + at + " tokens, the manifest counts " + tokens.length);
        return tokens;
    }
}
