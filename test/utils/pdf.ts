import { deflateRawSync, constants } from 'node:zlib';

/**
 * A minimal valid PDF (one page, Helvetica, one line of text per entry) built by hand, so the
 * document tests need no binary fixture. Offsets in the xref table are computed, not guessed.
 */
export function tinyPdf(lines: string[]): Buffer {
  const escape = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const text = lines
    .map((line, i) => `BT /F1 12 Tf 72 ${720 - i * 16} Td (${escape(line)}) Tj ET`)
    .join('\n');
  return onePagePdf(Buffer.from(text, 'latin1'));
}

/**
 * A one-page PDF of about `mib` KiB whose content stream inflates to `mib` MiB of spaces: a
 * decompression bomb. The stream is one deflated MiB repeated (each copy ends byte-aligned
 * by a full flush), so building it takes milliseconds and no memory.
 */
export function bombPdf(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20, 0x20), {
    level: 9,
    finishFlush: constants.Z_FULL_FLUSH,
  });
  // zlib's Adler-32 of n spaces, in closed form.
  const n = BigInt(mib) << 20n;
  const a = (1n + 32n * n) % 65521n;
  const b = (n + (32n * n * (n + 1n)) / 2n) % 65521n;
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(Number((b << 16n) | a));
  const stream = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    ...Array.from({ length: mib }, () => block),
    Buffer.from([0x03, 0x00]), // the final, empty block
    adler,
  ]);
  return onePagePdf(stream, '/Filter /FlateDecode');
}

function onePagePdf(content: Buffer, filter = ''): Buffer {
  const objects: Buffer[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    Buffer.concat([
      Buffer.from(`<< /Length ${content.length} ${filter}>>\nstream\n`, 'latin1'),
      content,
      Buffer.from('\nendstream', 'latin1'),
    ]),
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ].map((o) => (typeof o === 'string' ? Buffer.from(o, 'latin1') : o));
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n', 'latin1')];
  let length = parts[0]!.length;
  const add = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    add(Buffer.from(`${i + 1} 0 obj\n`, 'latin1'));
    add(body);
    add(Buffer.from('\nendobj\n', 'latin1'));
  });
  const xref = length;
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) tail += `${String(o).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  add(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
}
