import { Writable } from 'node:stream';
import pino from 'pino';
import { pinoOptions } from './logging';
import { maskNationalIds, scrubPersonalData } from './personal-data';

describe('national ID numbers never reach a log line', () => {
  it.each(['A123456789', 'F231234567', 'A800000014', 'AB12345678', 'a123456789'])('masks %s in text', (id) => {
    expect(maskNationalIds(`applicant ${id} at counter`)).toBe('applicant [national-id] at counter');
  });

  it('leaves card numbers, serials and longer digit runs alone', () => {
    expect(maskNationalIds('card TP0312345678901 serial 0123456789abcdef')).toBe('card TP0312345678901 serial 0123456789abcdef');
  });

  it('redacts secret keys and masks nested strings', () => {
    expect(
      scrubPersonalData({ nationalId: 'A123456789', userCode: 'abc%123', nested: { note: 'id A123456789' }, list: ['B123456789'] }),
    ).toEqual({ nationalId: '[redacted]', userCode: '[redacted]', nested: { note: 'id [national-id]' }, list: ['[national-id]'] });
  });

  it('applies to every pino line: message, fields and errors', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino(pinoOptions('test', 'info'), sink);
    logger.info({ holder: { nationalId: 'A123456789', name: 'x' } }, 'applied for A123456789');
    logger.error({ err: new Error('duplicate key (national_id)=(F231234567)') }, 'failed');
    const output = lines.join('');
    expect(output).not.toMatch(/A123456789|F231234567/);
    expect(output).toContain('[national-id]');
    expect(JSON.parse(lines[0])).toMatchObject({ service: 'test', level: 'info' });
  });
});
