package ai.behemoth.tokenizer;

import ai.behemoth.data.BundledCorpus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpeTokenizerTest {
    static String corpus;
    static BpeTokenizer trained;

    @BeforeAll
    static void train() {
        // 40 kB of Shakespeare and some text in other scripts, so that merges inside CJK and emoji bytes exist too.
        corpus = BundledCorpus.shakespeare().substring(0, 40_000) + "\n" + "我们的狐狸跳过了懒狗。我们喜欢狐狸。🦊🦊🐶 café naïve ".repeat(20);
        trained = BpeTokenizer.train(corpus, 600);
    }

    @Test
    void trainerLearnsTheSameMergesAsTheNaiveRecountingTrainer() {
        String text = corpus.substring(0, 6_000) + "狐狸 狐狸 🦊🦊 aaaa aaaa aaa";
        BpeTokenizer fast = BpeTokenizer.train(text, 400);
        List<int[]> expected = NaiveBpe.trainMerges(text, 400 - BpeTokenizer.SPECIAL_TOKENS.size());
        int[][] actual = fast.merges();
        assertThat(actual.length).isEqualTo(expected.size());
        for (int rank = 0; rank < actual.length; rank++) {
            assertThat(new int[]{actual[rank][0], actual[rank][1]}).as("merge %d", rank).containsExactly(expected.get(rank));
        }
    }

    @Test
    void encoderAgreesWithGpt2sNaiveLoopOnRandomText() {
        List<int[]> merges = Arrays.asList(trained.merges());
        Random random = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            String text = trial % 2 == 0 ? RandomText.generate(random, 30) : corpus.substring(random.nextInt(30_000)).substring(0, 200);
            assertThat(trained.encode(text)).as("ids of %s", PreTokenizerTest.escape(text)).containsExactly(NaiveBpe.encode(text, merges));
        }
    }

    @Test
    void mergesApplyLowestRankFirstThenLeftmost() {
        byte[][] tokens = new byte[262][];
        for (int b = 0; b < 256; b++) tokens[b] = new byte[]{(byte) b};
        tokens[256] = "bc".getBytes(StandardCharsets.US_ASCII);
        tokens[257] = "ab".getBytes(StandardCharsets.US_ASCII);
        tokens[258] = "abc".getBytes(StandardCharsets.US_ASCII);
        tokens[259] = "aa".getBytes(StandardCharsets.US_ASCII);
        tokens[260] = "aaaa".getBytes(StandardCharsets.US_ASCII);
        tokens[261] = "<|eot_id|>".getBytes(StandardCharsets.US_ASCII);
        // ranks: (b,c) 0, (a,b) 1, (ab,c) 2, (a,a) 3, (aa,aa) 4
        int[] left = {'b', 'a', 257, 'a', 259}, right = {'c', 'b', 'c', 'a', 259};
        BpeTokenizer t = new BpeTokenizer(tokens, left, right, Map.of("<|eot_id|>", 261), false);
        // (b,c) outranks (a,b): "abc" becomes a + bc, and "abc" (reachable only through ab) never forms.
        assertThat(t.encode("abc")).containsExactly('a', 256);
        assertThat(t.encode("abab")).containsExactly(257, 257);
        // Equal ranks go leftmost first: "aaa" is aa + a, "aaaaa" is aaaa + a.
        assertThat(t.encode("aaa")).containsExactly(259, 'a');
        assertThat(t.encode("aaaaa")).containsExactly(260, 'a');
        // Merges never cross pre-tokens: " abc" is one pre-token (space + letters), "ab c" two.
        assertThat(t.encode("ab c")).containsExactly(257, ' ', 'c');
        // With ignore_merges a pre-token that is a token is taken whole.
        BpeTokenizer whole = new BpeTokenizer(tokens, left, right, Map.of("<|eot_id|>", 261), true);
        assertThat(whole.encode("abc")).containsExactly(258);
    }

    @Test
    void roundTripsRandomUnicodeExactly() {
        Random random = new Random(3);
        Tokenizer bytes = new ByteTokenizer();
        for (int trial = 0; trial < 2000; trial++) {
            String text = RandomText.generate(random, random.nextInt(60));
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            assertThat(trained.decode(trained.encode(text))).as("BPE round trip of %s", PreTokenizerTest.escape(text)).isEqualTo(utf8);
            assertThat(bytes.decode(bytes.encode(text))).as("byte round trip of %s", PreTokenizerTest.escape(text)).isEqualTo(utf8);
        }
    }

    @Test
    void compressesTextLikeItsTrainingData() {
        String sample = corpus.substring(0, 5_000);
        assertThat(trained.encode(sample).length).isLessThan(sample.length() / 2);
    }

    @Test
    void specialTokensFollowTheMergedTokensAndAreNeverProducedFromText() {
        int first = trained.vocabSize() - BpeTokenizer.SPECIAL_TOKENS.size();
        for (int i = 0; i < BpeTokenizer.SPECIAL_TOKENS.size(); i++) {
            String special = BpeTokenizer.SPECIAL_TOKENS.get(i);
            assertThat(trained.specialToken(special)).hasValue(first + i);
            assertThat(trained.decode(new int[]{first + i})).isEqualTo(special.getBytes(StandardCharsets.UTF_8));
            assertThat(Arrays.stream(trained.encode(special)).max().orElseThrow()).isLessThan(first);
        }
        assertThat(trained.specialToken("<|unknown|>")).isEmpty();
        assertThat(trained.vocabSize()).isEqualTo(600);
    }

    @Test
    void stopsEarlyWhenTheTextRunsOutOfPairs() {
        BpeTokenizer small = BpeTokenizer.train("ab ab ab", 1000);
        // pairs: (a,b), (Ġ,a), (Ġa,b) or (Ġ,ab): three merges at most, then the five special tokens.
        assertThat(small.vocabSize()).isLessThanOrEqualTo(256 + 3 + 5);
        assertThat(small.decode(small.encode("ab ab ab"))).isEqualTo("ab ab ab".getBytes(StandardCharsets.UTF_8));
        assertThat(small.encode("ab ab ab")).hasSize(3);
    }

    @Test
    void vocabularyBelowTheMinimumIsAnErrorNamingIt() {
        assertThatThrownBy(() -> BpeTokenizer.train("text", 260))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("260").hasMessageContaining("261");
    }

    @Test
    void unknownIdsAreAnErrorNamingThem() {
        assertThatThrownBy(() -> trained.decode(new int[]{5, 600})).hasMessageContaining("600").hasMessageContaining("0..599");
        assertThatThrownBy(() -> new ByteTokenizer().decode(new int[]{-1})).hasMessageContaining("-1");
    }
}
