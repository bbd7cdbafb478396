package ai.behemoth.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 signatures on eval cards, with the JDK's own provider.
 *
 * <p>Key files: a private key is PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}, what
 * {@code openssl genpkey -algorithm ed25519} writes) or raw: the 32-byte seed as a binary file or 64
 * hex digits. A public key is X.509 PEM ({@code -----BEGIN PUBLIC KEY-----}) or raw: the 32-byte key,
 * binary or hex. {@code behemoth eval keygen} writes the PEM pair.
 */
public final class CardSignature {
    private CardSignature() {}

    public static final String ALGORITHM = "Ed25519";
    public static final String PRIVATE_FILE = "eval-key.pem", PUBLIC_FILE = "eval-key.pub.pem";
    // DER prefixes that turn a raw 32-byte key into PKCS#8 / X.509 (RFC 8410).
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    /** Writes a new key pair as {@code dir/eval-key.pem} (owner-only when the file system allows) and {@code dir/eval-key.pub.pem}. */
    public static Path[] generate(Path dir) throws IOException {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no Ed25519", e);
        }
        Files.createDirectories(dir);
        Path priv = dir.resolve(PRIVATE_FILE), pub = dir.resolve(PUBLIC_FILE);
        if (Files.exists(priv)) throw new java.nio.file.FileAlreadyExistsException(priv.toString());
        writePem(priv, "PRIVATE KEY", pair.getPrivate().getEncoded(), true);
        writePem(pub, "PUBLIC KEY", pair.getPublic().getEncoded(), false);
        return new Path[]{priv, pub};
    }

    private static void writePem(Path file, String type, byte[] der, boolean secret) throws IOException {
        String pem = "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            if (secret) {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException ignored) {
                    // not a POSIX file system: the default permissions stay
                }
            }
            Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static PrivateKey readPrivate(Path file) throws IOException {
        byte[] der = keyBytes(file, "PRIVATE KEY", PKCS8_PREFIX);
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + ": not an Ed25519 private key (PKCS#8 PEM, or 32 raw bytes / 64 hex digits)");
        }
    }

    public static PublicKey readPublic(Path file) throws IOException {
        return publicKey(keyBytes(file, "PUBLIC KEY", X509_PREFIX), file.toString());
    }

    private static PublicKey publicKey(byte[] x509, String where) throws IOException {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(x509));
        } catch (GeneralSecurityException e) {
            throw new IOException(where + ": not an Ed25519 public key (X.509 PEM, or 32 raw bytes / 64 hex digits)");
        }
    }

    /** The DER bytes of a key file: PEM of {@code type}, or a raw 32-byte key (binary or hex) given the DER prefix. */
    private static byte[] keyBytes(Path file, String type, byte[] rawPrefix) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.US_ASCII).strip();
        byte[] raw = null;
        if (text.startsWith("-----BEGIN " + type + "-----")) {
            int end = text.indexOf("-----END " + type + "-----");
            if (end < 0) throw new IOException(file + ": PEM without its END line");
            String body = text.substring(("-----BEGIN " + type + "-----").length(), end);
            try {
                return Base64.getMimeDecoder().decode(body);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": PEM body is not base64");
            }
        } else if (text.startsWith("-----BEGIN")) {
            throw new IOException(file + ": expected a PEM " + type + ", found " + text.lines().findFirst().orElse(""));
        } else if (bytes.length == 32) {
            raw = bytes;
        } else if (text.matches("[0-9a-fA-F]{64}")) {
            raw = HexFormat.of().parseHex(text);
        }
        if (raw == null) throw new IOException(file + ": not a key file (PEM " + type + ", or 32 raw bytes / 64 hex digits)");
        byte[] der = new byte[rawPrefix.length + 32];
        System.arraycopy(rawPrefix, 0, der, 0, rawPrefix.length);
        System.arraycopy(raw, 0, der, rawPrefix.length, 32);
        return der;
    }

    /** Signs the card in place: its canonical form, with the public key that checks it. */
    public static void sign(ObjectNode card, PrivateKey key) throws IOException {
        PublicKey pub = publicOf(key);
        card.remove("signature");
        byte[] value;
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(EvalCard.canonical(card));
            value = s.sign();
        } catch (GeneralSecurityException e) {
            throw new IOException("signing the card: " + e.getMessage(), e);
        }
        ObjectNode sig = card.putObject("signature");
        sig.put("algorithm", ALGORITHM);
        sig.put("public_key", Base64.getEncoder().encodeToString(pub.getEncoded()));
        sig.put("key_sha256", Hashes.sha256(pub.getEncoded()));
        sig.put("value", Base64.getEncoder().encodeToString(value));
    }

    /**
     * Checks the card's signature; returns the fingerprint of the key that made it. With
     * {@code expected} the signature must be by that key. Throws, saying why, when it does not hold.
     */
    public static String check(ObjectNode card, PublicKey expected, String where) throws IOException {
        JsonNode sig = card.get("signature");
        if (sig == null) throw new IOException(where + ": the card is not signed");
        if (!ALGORITHM.equals(sig.path("algorithm").asText()))
            throw new IOException(where + ": signature algorithm " + sig.path("algorithm").asText() + " is not " + ALGORITHM);
        byte[] embedded, value;
        try {
            embedded = Base64.getDecoder().decode(sig.path("public_key").asText());
            value = Base64.getDecoder().decode(sig.path("value").asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": signature fields are not base64");
        }
        PublicKey key = expected != null ? expected : publicKey(embedded, where + ": signature.public_key");
        if (expected != null && !java.util.Arrays.equals(expected.getEncoded(), embedded))
            throw new IOException(where + ": signed by key " + Hashes.sha256(embedded) + ", not by the given public key "
                    + Hashes.sha256(expected.getEncoded()));
        boolean ok;
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(EvalCard.canonical(card));
            ok = s.verify(value);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) throw new IOException(where + ": signature does not match the card's contents (the card was changed after signing)");
        return Hashes.sha256(key.getEncoded());
    }

    /** The public key of an Ed25519 private key (the JDK keeps no link, so derive it from the seed). */
    private static PublicKey publicOf(PrivateKey key) throws IOException {
        try {
            var edKey = (java.security.interfaces.EdECPrivateKey) key;
            byte[] seed = edKey.getBytes().orElseThrow();
            // Sign nothing with a throwaway generator seeded so that it regenerates the same pair.
            KeyPairGenerator g = KeyPairGenerator.getInstance(ALGORITHM);
            g.initialize(new java.security.spec.NamedParameterSpec(ALGORITHM), new FixedRandom(seed));
            KeyPair pair = g.generateKeyPair();
            if (!java.util.Arrays.equals(pair.getPrivate().getEncoded(), key.getEncoded()))
                throw new IOException("cannot derive the public key of this Ed25519 private key");
            return pair.getPublic();
        } catch (GeneralSecurityException | ClassCastException | java.util.NoSuchElementException e) {
            throw new IOException("not an Ed25519 private key: " + e.getMessage(), e);
        }
    }

    /** A "random" source that returns the given seed: makes KeyPairGenerator rebuild a known pair. */
    private static final class FixedRandom extends java.security.SecureRandom {
        private final byte[] seed;

        FixedRandom(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
        }
    }
}
