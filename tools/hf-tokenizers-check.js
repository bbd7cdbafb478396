// Encodes texts with the Hugging Face tokenizers library (its Rust core, through the npm binding)
// and compares the ids with those Behemoth wrote.
// Usage: node hf-tokenizers-check.js TOKENIZER.json TEXT_FILE BEHEMOTH_IDS_FILE [HF_IDS_OUT]
// Prints one line: identical or the first difference; exits 1 on a difference.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokenizerFile, textFile, behemothIdsFile, hfIdsOut] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(tokenizerFile);
  const text = fs.readFileSync(textFile, 'utf8');
  const encoding = await tokenizer.encode(text, null, { addSpecialTokens: false });
  const hf = Array.from(encoding.getIds());
  if (hfIdsOut) fs.writeFileSync(hfIdsOut, hf.join(' ') + '\n');
  const ours = fs.readFileSync(behemothIdsFile, 'ascii').trim().split(/\s+/).filter(s => s.length > 0).map(Number);
  const decoded = await tokenizer.decode(hf, false);
  const name = `${textFile.split('/').pop()} (${Buffer.byteLength(text)} bytes) with ${tokenizerFile.split('/').pop()} (vocab ${tokenizer.getVocabSize(true)})`;
  let first = -1;
  for (let i = 0; i < Math.max(hf.length, ours.length); i++) if (hf[i] !== ours[i]) { first = i; break; }
  if (first >= 0) {
    console.log(`DIFFERENT ${name}: first difference at id ${first}: library ${hf.slice(first, first + 8)} behemoth ${ours.slice(first, first + 8)}`);
    process.exit(1);
  }
  console.log(`identical ${name}: ${hf.length} ids; library decode gives back the text: ${decoded === text}`);
}
main().catch(e => { console.error(e); process.exit(2); });
