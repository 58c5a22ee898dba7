import { checkHolderName } from './holder-name';

describe('checkHolderName', () => {
  it.each([
    ['王小明', '王小明'],
    ['Kolas Yotaka', 'Kolas Yotaka'],
    ['瓦歷斯·諾幹', '瓦歷斯·諾幹'],
    ['x'.repeat(64), 'x'.repeat(64)],
    ['\u0041\u030A', '\u00C5'],
  ])('accepts %j', (name, normalised) => {
    expect(checkHolderName(name)).toEqual({ allowed: true, name: normalised });
  });

  it.each([
    ['', 'name-missing'],
    ['   ', 'name-missing'],
    [' 王小明', 'name-malformed'],
    ['王小明 ', 'name-malformed'],
    ['王\u0000小明', 'name-malformed'],
    ['王\n小明', 'name-malformed'],
    ['x'.repeat(65), 'name-malformed'],
    ['𠀀'.repeat(65), 'name-malformed'],
  ])('refuses %j with %s', (name, code) => {
    expect(checkHolderName(name)).toMatchObject({ allowed: false, code });
  });
});
