package ai.behemoth.cli;

import ai.behemoth.tokenizer.BpeTokenizer;
import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code behemoth tokenizer train|encode|decode}. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer, or encode and decode with one.",
        subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Encode.class, TokenizerCommand.Decode.class})
public final class TokenizerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Standard input and output as bytes; tests replace them. */
    static InputStream stdin = System.in;
    static OutputStream stdout = System.out;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train byte-level BPE on a UTF-8 text file and save it as a Hugging Face tokenizer.json.")
    static final class Train implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "PATH", description = "UTF-8 text file to train on.")
        Path data;

        @Option(names = "--vocab", required = true, paramLabel = "N",
                description = "Vocabulary size, counting the 256 bytes and the 5 special tokens (at least 261).")
        int vocab;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write tokenizer.json.")
        Path out;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            BpeTokenizer.checkVocabSize(vocab); // before reading a large file
            if (Files.isDirectory(data)) throw new IOException(data + " is a folder, not a text file");
            String text = readUtf8(Files.readAllBytes(data), data.toString());
            if (text.isBlank()) throw new IOException(data + " is empty: nothing to train on");
            long start = System.nanoTime();
            BpeTokenizer tokenizer = train(text);
            double seconds = (System.nanoTime() - start) / 1e9;
            tokenizer.save(out);
            PrintWriter log = spec.commandLine().getOut();
            log.printf("trained %d tokens (%d merges, %d special) on %s in %.1f s; wrote %s%n",
                    tokenizer.vocabSize(), tokenizer.mergeCount(), tokenizer.specialTokens().size(), data, seconds, out);
            if (tokenizer.vocabSize() < vocab) {
                log.printf("note: %s has too few distinct pairs for %d tokens; the vocabulary stops at %d%n", data, vocab, tokenizer.vocabSize());
            }
            return 0;
        }

        /** Trains with a progress bar on an interactive terminal (none in pipes and logs). */
        private BpeTokenizer train(String text) {
            if (System.console() == null) return BpeTokenizer.train(text, vocab);
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("BPE merges").setInitialMax(vocab)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" tokens", 1).showSpeed().build()) {
                BpeTokenizer tokenizer = BpeTokenizer.train(text, vocab, bar::stepTo);
                bar.stepTo(tokenizer.vocabSize()); // the special tokens
                return tokenizer;
            }
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = "Read UTF-8 text on standard input; write its token ids, separated by spaces, on standard output.")
    static final class Encode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "SPEC", description = "'bytes' or the path of a tokenizer.json.")
        String tokenizer;

        @Override
        public Integer call() throws IOException {
            Tokenizer t = Tokenizers.load(tokenizer);
            int[] ids = t.encode(readUtf8(stdin.readAllBytes(), "standard input"));
            StringBuilder text = new StringBuilder(ids.length * 5);
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) text.append(' ');
                text.append(ids[i]);
            }
            text.append('\n');
            stdout.write(text.toString().getBytes(StandardCharsets.US_ASCII));
            stdout.flush();
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Read token ids (separated by white space) on standard input; write exactly the bytes they stand for.")
    static final class Decode implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "SPEC", description = "'bytes' or the path of a tokenizer.json.")
        String tokenizer;

        @Override
        public Integer call() throws IOException {
            Tokenizer t = Tokenizers.load(tokenizer);
            String input = new String(stdin.readAllBytes(), StandardCharsets.UTF_8).strip();
            String[] words = input.isEmpty() ? new String[0] : input.split("\\s+");
            int[] ids = new int[words.length];
            for (int i = 0; i < words.length; i++) {
                try {
                    ids[i] = Integer.parseInt(words[i]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("token id '" + words[i] + "' (item " + (i + 1) + ") is not a number");
                }
                if (ids[i] < 0 || ids[i] >= t.vocabSize()) {
                    throw new IllegalArgumentException("token id " + ids[i] + " (item " + (i + 1) + ") is outside the vocabulary 0.." + (t.vocabSize() - 1));
                }
            }
            OutputStream out = new BufferedOutputStream(stdout);
            out.write(t.decode(ids));
            out.flush();
            return 0;
        }
    }

    /** Decodes strict UTF-8; a binary file or a bad byte sequence is a one-line error naming the source and offset. */
    static String readUtf8(byte[] bytes, String source) throws IOException {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) throw new IOException(source + " looks binary (a NUL byte at offset " + i + "), not UTF-8 text");
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            return decoder.decode(buffer).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(source + " is not valid UTF-8 (bad byte sequence at offset " + buffer.position() + ")");
        }
    }
}
