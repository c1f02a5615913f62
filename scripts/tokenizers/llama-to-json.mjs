// Converts the LLaMA-1/2 SentencePiece-BPE data embedded in llama-tokenizer-js@1.2.2 into a
// tokenizer.json with the exact layout of Hugging Face's LLaMA-2 tokenizer.json.
// Usage: node llama-to-json.mjs path/to/llama-tokenizer.js OUT
//
// llama-tokenizer-js stores (a) the vocab as base64 UTF-8 "\n"-joined pieces, row number = id, and
// (b) the merges as base64 little-endian uint16 pairs (left id, right id), in the order of the
// original tokenizer.json merges. It gives merge k (0-based) the priority 2k+1 in a Map keyed by
// "left right", so a repeated pair keeps its *last* priority, and it merges the lowest priority
// first, equal ones left to right. We emit the merges as "left right" strings sorted by that
// effective priority: HF's BPE (lowest rank first, leftmost on ties, later duplicates win) then
// sees the same order. Every merge's concatenation must be a vocab piece, else we stop.
import fs from 'node:fs';
import {pathToFileURL} from 'node:url';
import {writeTokenizerJson, die} from './common.mjs';

const [jsPath, outPath] = process.argv.slice(2);
if (!outPath) die('usage: node llama-to-json.mjs llama-tokenizer.js tokenizer.json');

const tokenizer = (await import(pathToFileURL(jsPath).href)).default;
const vocab = tokenizer.vocabById;
if (vocab.length !== 32000) die(`${jsPath}: expected 32000 pieces, got ${vocab.length}`);
const specials = ['<unk>', '<s>', '</s>'];
specials.forEach((s, i) => { if (vocab[i] !== s) die(`${jsPath}: id ${i} is ${vocab[i]}, expected ${s}`); });
for (let b = 0; b < 256; b++) {
    const piece = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
    if (vocab[3 + b] !== piece) die(`${jsPath}: id ${3 + b} is ${vocab[3 + b]}, expected ${piece}`);
}
const byPiece = new Map();
vocab.forEach((piece, id) => {
    if (byPiece.has(piece)) die(`${jsPath}: piece ${piece} appears at ids ${byPiece.get(piece)} and ${id}`);
    byPiece.set(piece, id);
});

// Raw merge list, decoded exactly as decompressMerges() does, to count duplicates.
const source = fs.readFileSync(jsPath, 'utf-8');
const match = source.match(/const llama_merges_binary = "([A-Za-z0-9+/=]+)"/);
if (!match) die(`${jsPath}: llama_merges_binary not found`);
const bytes = Buffer.from(match[1], 'base64');
const rawCount = bytes.length / 4;
for (let k = 0; k < rawCount; k++) {
    const left = vocab[bytes.readUInt16LE(4 * k)];
    const right = vocab[bytes.readUInt16LE(4 * k + 2)];
    const key = `${left} ${right}`;
    if (tokenizer.merges.get(key) === undefined) die(`${jsPath}: merge ${k} (${key}) missing from the Map`);
    if (!byPiece.has(left + right)) die(`${jsPath}: merge ${key}: ${left + right} is not a piece`);
    if (left.includes(' ') || right.includes(' ')) die(`${jsPath}: merge ${k} has a space in a piece`);
}
const merges = [...tokenizer.merges.entries()].sort((a, b) => a[1] - b[1]).map(([key]) => key);
const duplicates = rawCount - merges.length;

const added = (id, content) => ({id, content, single_word: false, lstrip: false, rstrip: false,
                                 normalized: false, special: true});
const header = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s, i) => added(i, s)),
    normalizer: {type: 'Sequence', normalizers: [
        {type: 'Prepend', prepend: '\u2581'},
        {type: 'Replace', pattern: {String: ' '}, content: '\u2581'},
    ]},
    pre_tokenizer: null,
    post_processor: {
        type: 'TemplateProcessing',
        single: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}],
        pair: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
               {SpecialToken: {id: '<s>', type_id: 1}}, {Sequence: {id: 'B', type_id: 1}}],
        special_tokens: {'<s>': {id: '<s>', ids: [1], tokens: ['<s>']}},
    },
    decoder: {type: 'Sequence', decoders: [
        {type: 'Replace', pattern: {String: '\u2581'}, content: ' '},
        {type: 'ByteFallback'},
        {type: 'Fuse'},
        {type: 'Strip', content: ' ', start: 1, stop: 0},
    ]},
};
const model = {type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
               end_of_word_suffix: null, fuse_unk: true, byte_fallback: true};
writeTokenizerJson(outPath, header, model, vocab.map((piece, id) => [piece, id]), merges, {});
console.log(`llama-to-json: ${vocab.length} pieces, ${merges.length} merges ` +
            `(${rawCount} stored, ${duplicates} repeated pairs kept at their last priority) -> ${outPath}`);
