import { derTlv } from '../signing/der';
import { DerCursor } from './der-cursor';
import { children, DerNode, readSingle } from './der-reader';
import { seededBytes } from './testing/key-fixtures';

/** Every element, depth first, as "tag start contentStart end", read with the node reader (constructed elements entered). */
function walkNodes(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const visit = (node: DerNode) => {
    out.push(`${node.tag} ${node.start} ${node.contentStart} ${node.end}`);
    if (node.tag & 0x20) children(node).forEach(visit);
  };
  visit(readSingle(bytes));
  return out;
}

/** The same walk with the cursor. */
function walkCursor(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const cursor = new DerCursor().reset(bytes);
  const visit = () => {
    out.push(`${cursor.tag} ${cursor.start} ${cursor.contentStart} ${cursor.end}`);
    if (cursor.tag & 0x20) {
      const outer = cursor.enter();
      while (!cursor.done) {
        cursor.next();
        visit();
      }
      cursor.leave(outer);
    }
  };
  cursor.single();
  visit();
  return out;
}

const outcome = (walk: (bytes: Uint8Array) => string[], bytes: Uint8Array) => {
  try {
    return walk(bytes);
  } catch (error) {
    return error instanceof RangeError ? 'RangeError' : `other: ${String(error)}`;
  }
};

describe('DerCursor (X.690 §8.1, §10.1)', () => {
  const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));

  it.each([
    ['a nested structure', '30 0a 02 01 05 a0 05 30 03 04 01 ff'],
    ['a long-form length', `30 81 80 04 7e ${'00'.repeat(0x7e)}`],
    ['an empty constructed element', '30 00'],
  ])('reads %s exactly as the node reader does', (_name, text) => {
    expect(walkCursor(hex(text))).toEqual(walkNodes(hex(text)));
  });

  it.each([
    ['a truncated header', '30'],
    ['a truncated content', '30 05 02 01'],
    ['a multi-octet tag', '1f 01 00'],
    ['an indefinite length', '30 80 00 00'],
    ['a non-minimal long length', '04 81 05 00 00 00 00 00'],
    ['a leading zero length octet', `04 82 00 80 ${'00'.repeat(0x80)}`],
    ['seven length octets', '04 87 00 00 00 00 00 00 01 00'],
    ['a child overrunning its parent', '30 03 04 02 00 00'],
    ['trailing bytes', '05 00 00'],
  ])('refuses %s', (_name, text) => {
    const bytes = hex(text);
    expect(outcome(walkNodes, bytes)).toBe('RangeError');
    expect(outcome(walkCursor, bytes)).toBe('RangeError');
  });

  it('refuses to enter a primitive element, as children() does', () => {
    const bytes = hex('04 00');
    expect(() => children(readSingle(bytes))).toThrow(RangeError);
    const cursor = new DerCursor().reset(bytes);
    cursor.single();
    expect(() => cursor.enter()).toThrow(RangeError);
  });

  it('leave() reads the elements not read, so a malformed one after them is refused', () => {
    const cursor = new DerCursor().reset(hex('30 05 02 01 05 04 05'));
    cursor.single();
    const outer = cursor.enter();
    cursor.next();
    expect(() => cursor.leave(outer)).toThrow(RangeError);
  });

  it('agrees with the node reader on 3,000 mutated encodings', () => {
    const draw = seededBytes('der-cursor.spec');
    const base = derTlv(0x30, derTlv(0x02, Uint8Array.of(1)), derTlv(0xa3, derTlv(0x30, derTlv(0x06, Uint8Array.of(0x55, 0x1d, 0x0f)), derTlv(0x04, new Uint8Array(140)))), derTlv(0x31, derTlv(0x13, Buffer.from('TW'))));
    for (let round = 0; round < 3000; round++) {
      const [at1, at2, value, kind] = draw(4);
      const at = ((at1 << 8) | at2) % base.length;
      const bytes = kind % 2 ? Uint8Array.from(base, (octet, i) => (i === at ? value : octet)) : base.slice(0, at);
      expect([round, outcome(walkCursor, bytes)]).toEqual([round, outcome(walkNodes, bytes)]);
    }
  });
});
