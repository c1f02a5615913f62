// Helpers shared by the tokenizer converters: writes a Hugging Face tokenizer.json with the vocab
// in id order (JSON.stringify of a plain object would move integer-like keys such as "1" first).
import fs from 'node:fs';
import path from 'node:path';

export function writeTokenizerJson(outPath, header, model, vocabEntries, merges, trailer) {
    // header/trailer: plain objects serialised before/after "model"; vocabEntries: [token, id]
    const lines = ['{'];
    for (const [key, value] of Object.entries(header)) {
        lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
    }
    lines.push('  "model": {');
    for (const [key, value] of Object.entries(model)) {
        lines.push(`    ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
    }
    lines.push('    "vocab": {');
    const sorted = [...vocabEntries].sort((a, b) => a[1] - b[1]);
    sorted.forEach(([token, id], i) => {
        const comma = i + 1 < sorted.length ? ',' : '';
        lines.push(`      ${JSON.stringify(token)}: ${id}${comma}`);
    });
    lines.push('    },');
    lines.push('    "merges": [');
    merges.forEach((m, i) => {
        const comma = i + 1 < merges.length ? ',' : '';
        lines.push(`      ${JSON.stringify(m)}${comma}`);
    });
    lines.push('    ]');
    const trailerEntries = Object.entries(trailer);
    lines.push(trailerEntries.length ? '  },' : '  }');
    trailerEntries.forEach(([key, value], i) => {
        const comma = i + 1 < trailerEntries.length ? ',' : '';
        lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    });
    lines.push('}');
    fs.mkdirSync(path.dirname(outPath), {recursive: true});
    const tmp = `${outPath}.tmp`;
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, outPath);
}

export function die(message) {
    console.error(message);
    process.exit(1);
}
