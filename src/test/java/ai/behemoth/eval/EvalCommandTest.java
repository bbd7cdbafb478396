package ai.behemoth.eval;

import ai.behemoth.model.GgufExport;
import ai.behemoth.tensor.quant.GgmlType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code behemoth eval ...}: cards, verification, tampering, comparison, and one-line errors for bad data. */
class EvalCommandTest {
    @TempDir
    static Path tmp;
    static Path model, other, text, card, keys;

    @BeforeAll
    static void setUp() throws IOException {
        model = tmp.resolve("model");
        other = tmp.resolve("other");
        EvalFixtures.randomModel(model, 21);
        EvalFixtures.randomModel(other, 22);
        text = tmp.resolve("text.txt");
        Files.writeString(text, EvalFixtures.text());
        keys = tmp.resolve("keys");
        assertThat(EvalFixtures.run("eval", "keygen", "--out", keys.toString()).code()).isZero();
        card = tmp.resolve("ppl.card.json");
        EvalFixtures.Result r = perplexity(model, card, "--sign", keys.resolve("eval-key.pem").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("nats_per_token").contains("eval card: " + card + " (signed)");
    }

    static EvalFixtures.Result perplexity(Path model, Path card, String... more) {
        String[] base = {"eval", "perplexity", "--model", model.toString(), "--data", text.toString(), "--card", card.toString(),
                "--resamples", "200"};
        return EvalFixtures.run(Stream.concat(Stream.of(base), Stream.of(more)).toArray(String[]::new));
    }

    static Path copyOf(Path dir, String name) throws IOException {
        Path copy = tmp.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) Files.copy(f, copy.resolve(f.getFileName()));
        }
        return copy;
    }

    @Test
    void cardBindsHashesConfigAndScores() throws IOException {
        ObjectNode c = EvalCard.read(card);
        assertThat(c.path("model").path("files").path("model.safetensors").asText())
                .isEqualTo(Hashes.sha256(model.resolve("model.safetensors")));
        assertThat(c.path("tokenizer").path("sha256").asText()).isEqualTo(Hashes.sha256(model.resolve("tokenizer.json")));
        assertThat(c.path("data").path("sha256").asText()).isEqualTo(Hashes.sha256(Files.readAllBytes(text)));
        assertThat(c.path("model").path("config").path("context").asInt()).isEqualTo(48);
        assertThat(c.path("settings").path("stride").asInt()).isEqualTo(24);
        assertThat(c.path("command").asText()).startsWith("behemoth eval perplexity --model ");
        JsonNode nats = c.path("scores").path("nats_per_token");
        assertThat(nats.path("ci95").path(0).asDouble()).isLessThanOrEqualTo(nats.path("value").asDouble());
        assertThat(nats.path("ci95").path(1).asDouble()).isGreaterThanOrEqualTo(nats.path("value").asDouble());
        assertThat(c.path("items").path("columns").path("nats").size()).isEqualTo(c.path("items").path("count").asInt());
    }

    @Test
    void sameSeedGivesTheSameScores() throws IOException {
        Path again = tmp.resolve("again.card.json");
        assertThat(perplexity(model, again, "--sign", keys.resolve("eval-key.pem").toString()).code()).isZero();
        ObjectNode a = EvalCard.read(card), b = EvalCard.read(again);
        // The engine's logits change in the last bits while the JIT compiles its kernels (the first
        // windows of a fresh JVM differ by ~1e-6 nats from later ones), so scores are compared to
        // 1e-8; the bootstrap itself is seeded and exact for the same items.
        for (String metric : new String[]{"nats_per_token", "bits_per_byte"}) {
            JsonNode x = a.path("scores").path(metric), y = b.path("scores").path(metric);
            assertThat(y.path("value").asDouble()).isCloseTo(x.path("value").asDouble(), org.assertj.core.api.Assertions.within(1e-8));
            for (int i = 0; i < 2; i++)
                assertThat(y.path("ci95").path(i).asDouble()).isCloseTo(x.path("ci95").path(i).asDouble(), org.assertj.core.api.Assertions.within(1e-8));
        }
        assertThat(b.path("items").path("columns").path("tokens")).isEqualTo(a.path("items").path("columns").path("tokens"));
        assertThat(b.path("settings")).isEqualTo(a.path("settings"));
    }

    /** A GGUF export of the same model scores the same, and its card binds the .gguf file's bytes. */
    @Test
    void aGgufExportScoresAsTheCheckpointDoes() throws IOException {
        Path gguf = tmp.resolve("model.gguf"), ggufCard = tmp.resolve("gguf.card.json");
        GgufExport.export(model, GgmlType.F32, gguf);
        assertThat(perplexity(gguf, ggufCard).code()).isZero();
        ObjectNode a = EvalCard.read(card), g = EvalCard.read(ggufCard);
        assertThat(g.path("model").path("files").path("model.gguf").asText()).isEqualTo(Hashes.sha256(gguf));
        assertThat(g.path("scores").path("nats_per_token").path("value").asDouble())
                .isCloseTo(a.path("scores").path("nats_per_token").path("value").asDouble(), org.assertj.core.api.Assertions.within(1e-5));
    }

    @Test
    void verifyPassesOnTheSameBytesAndReruns() {
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", card.toString(), "--model", model.toString(), "--rerun",
                "--pubkey", keys.resolve("eval-key.pub.pem").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("signature: valid").contains("rerun nats_per_token").contains("verified: ");
    }

    /** A card claiming a better score than the model gives: the hashes match, the rerun does not. */
    @Test
    void rerunCatchesAScoreTheModelDoesNotGive() throws IOException {
        ObjectNode c = EvalCard.read(card);
        c.remove("signature");
        ObjectNode nats = (ObjectNode) c.path("scores").path("nats_per_token");
        double value = nats.path("value").asDouble();
        nats.put("value", value - 0.5);
        nats.putArray("ci95").add(value - 0.6).add(value - 0.4);
        Path claimed = tmp.resolve("claimed.card.json");
        EvalCard.write(c, claimed);
        EvalFixtures.Result hashesOnly = EvalFixtures.run("eval", "verify", claimed.toString(), "--model", model.toString());
        assertThat(hashesOnly.code()).as(hashesOnly.err()).isZero();
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", claimed.toString(), "--model", model.toString(), "--rerun");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("rerun nats_per_token").contains("outside the interval");
        assertThat(r.out()).contains("rerun bits_per_byte"); // the untouched metric still agrees
    }

    @Test
    void oneFlippedByteInTheWeightsFailsVerify() throws IOException {
        Path damaged = copyOf(model, "flipped");
        Path weights = damaged.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 3] ^= 0x01;
        Files.write(weights, bytes);
        String want = Hashes.sha256(model.resolve("model.safetensors")), got = Hashes.sha256(weights);
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", card.toString(), "--model", damaged.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(weights + ": expected sha256 " + want + ", got " + got);
        assertThat(r.err().lines().filter(l -> l.startsWith("behemoth: error:")).count()).isEqualTo(1);
    }

    @Test
    void aCardOfOtherWeightsFails() {
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", card.toString(), "--model", other.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("model.safetensors: expected sha256");
    }

    @Test
    void tamperedScoreBreaksTheSignature() throws IOException {
        ObjectNode c = EvalCard.read(card);
        ((ObjectNode) c.path("scores").path("nats_per_token")).put("value", 1.0); // a better-looking score
        Path forged = tmp.resolve("forged.card.json");
        EvalCard.write(c, forged);
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", forged.toString(), "--model", model.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("signature does not match the card's contents");
    }

    @Test
    void cardSignedByAnotherKeyFailsAgainstThePinnedKey() throws IOException {
        Path mallory = tmp.resolve("mallory");
        assertThat(EvalFixtures.run("eval", "keygen", "--out", mallory.toString()).code()).isZero();
        ObjectNode c = EvalCard.read(card);
        CardSignature.sign(c, CardSignature.readPrivate(mallory.resolve("eval-key.pem")));
        Path resigned = tmp.resolve("resigned.card.json");
        EvalCard.write(c, resigned);
        EvalFixtures.Result r = EvalFixtures.run("eval", "verify", resigned.toString(), "--model", model.toString(),
                "--pubkey", keys.resolve("eval-key.pub.pem").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("not by the given public key");
    }

    @Test
    void rawKeysWork() throws IOException {
        java.security.interfaces.EdECPrivateKey key = (java.security.interfaces.EdECPrivateKey) CardSignature.readPrivate(keys.resolve("eval-key.pem"));
        Path raw = tmp.resolve("raw.key");
        Files.write(raw, key.getBytes().orElseThrow());
        ObjectNode c = EvalCard.read(card);
        CardSignature.sign(c, CardSignature.readPrivate(raw));
        assertThat(CardSignature.check(c, CardSignature.readPublic(keys.resolve("eval-key.pub.pem")), "card")).isNotEmpty();
    }

    @Test
    void compareWritesATableAndPlots() throws IOException {
        Path otherCard = tmp.resolve("other.card.json");
        assertThat(perplexity(other, otherCard).code()).isZero();
        Path out = tmp.resolve("compare");
        EvalFixtures.Result r = EvalFixtures.run("eval", "compare", card.toString(), otherCard.toString(), "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("nats_per_token").contains("bits_per_byte").contains("paired bootstrap").contains("baseline");
        assertThat(Files.readString(out.resolve("compare.html"))).contains("data:image/png;base64,");
        byte[] png = Files.readAllBytes(out.resolve("compare-nats_per_token.png"));
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void missingEmptyOrMalformedDataIsAOneLineError() throws IOException {
        EvalFixtures.Result missing = EvalFixtures.run("eval", "perplexity", "--model", model.toString(), "--data", tmp.resolve("nope.txt").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("behemoth: error: no such file: " + tmp.resolve("nope.txt"));

        Path empty = tmp.resolve("empty.txt");
        Files.writeString(empty, "");
        EvalFixtures.Result e = EvalFixtures.run("eval", "perplexity", "--model", model.toString(), "--data", empty.toString());
        assertThat(e.code()).isEqualTo(1);
        assertThat(e.err().strip()).isEqualTo("behemoth: error: " + empty + ": empty (no text to evaluate)");

        Path binary = tmp.resolve("binary.txt");
        Files.write(binary, new byte[]{(byte) 0xff, (byte) 0xfe, 0x41});
        EvalFixtures.Result b = EvalFixtures.run("eval", "perplexity", "--model", model.toString(), "--data", binary.toString());
        assertThat(b.err().strip()).isEqualTo("behemoth: error: " + binary + ": not UTF-8 text");

        Path tasks = tmp.resolve("bad.jsonl");
        Files.writeString(tasks, "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"label\": 0}\n{\"context\": \"a\", \"choices\": \"b\", \"label\": 0}\n");
        EvalFixtures.Result t = EvalFixtures.run("eval", "choice", "--model", model.toString(), "--tasks", tasks.toString());
        assertThat(t.code()).isEqualTo(1);
        assertThat(t.err().strip()).isEqualTo("behemoth: error: " + tasks + ":2: \"choices\" must be an array of at least 2 strings");

        Path gguf = tmp.resolve("model.gguf");
        Files.write(gguf, new byte[]{'G', 'G', 'U', 'F'});
        EvalFixtures.Result g = EvalFixtures.run("eval", "perplexity", "--model", gguf.toString(), "--data", text.toString());
        assertThat(g.code()).isEqualTo(1);
        assertThat(g.err().strip()).startsWith("behemoth: error: " + gguf).doesNotContain("\n");
        assertThat(ModelSource.fileHashes(gguf)).containsExactly(java.util.Map.entry("model.gguf", Hashes.sha256(gguf)));

        Path notACard = tmp.resolve("not-a-card.json");
        Files.writeString(notACard, "{\"hello\": 1}");
        EvalFixtures.Result v = EvalFixtures.run("eval", "verify", notACard.toString(), "--model", model.toString());
        assertThat(v.err().strip()).startsWith("behemoth: error: " + notACard + ": not an eval card");
    }

    @Test
    void choiceAndStabilityWriteCards() throws IOException {
        Path tasks = tmp.resolve("tasks.jsonl");
        Files.writeString(tasks, NextLineTasks.toJsonLines(NextLineTasks.build(EvalData.shakespeareHeldOut().text(), 3, 9)));
        Path choiceCard = tmp.resolve("choice.card.json");
        EvalFixtures.Result c = EvalFixtures.run("eval", "choice", "--model", model.toString(), "--tasks", tasks.toString(),
                "--card", choiceCard.toString(), "--log-samples");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("acc_norm");
        assertThat(EvalCard.read(choiceCard).path("samples").size()).isEqualTo(3);

        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "# two prompts\nFirst Citizen:\n\nAll:\n");
        Path stabilityCard = tmp.resolve("stability.card.json");
        EvalFixtures.Result s = EvalFixtures.run("eval", "stability", "--model", model.toString(), "--prompts", prompts.toString(),
                "--seeds", "3", "--max-tokens", "6", "--card", stabilityCard.toString());
        assertThat(s.code()).as(s.err()).isZero();
        ObjectNode sc = EvalCard.read(stabilityCard);
        assertThat(sc.path("items").path("count").asInt()).isEqualTo(6);
        assertThat(sc.path("prompts").size()).isEqualTo(2);
        JsonNode ppl = sc.path("prompts").path(0).path("perplexity");
        assertThat(ppl.path("p10").asDouble()).isLessThanOrEqualTo(ppl.path("p50").asDouble());
        assertThat(ppl.path("p50").asDouble()).isLessThanOrEqualTo(ppl.path("p90").asDouble());
        assertThat(sc.path("prompts").path(0).path("swing").asDouble()).isGreaterThanOrEqualTo(sc.path("prompts").path(1).path("swing").asDouble());
    }
}
