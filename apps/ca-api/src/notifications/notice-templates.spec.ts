import { LIFECYCLE_NOTICE_KINDS, TRANSACTIONAL_NOTICE_KINDS, type NoticeKind } from './notice-kinds';
import { isoDay, renderNotice, renderVerificationCode, rocDate } from './notice-templates';

const ISSUED = new Date('2024-02-29T02:00:00Z'); // docs/lifecycle.md's example card

describe('notice templates (Traditional Chinese and English)', () => {
  it('writes Taiwan calendar days, ROC years in Chinese', () => {
    expect(rocDate(new Date('2031-12-30T16:00:00Z'))).toBe('民國120年12月31日');
    expect(isoDay(new Date('2031-12-30T16:00:00Z'))).toBe('2031-12-31');
  });

  it.each([
    ['renewal-window-opened', '民國118年2月28日到期', 'expires on 2029-02-28', '2032-02-29'],
    ['expired-but-renewable', '展期至民國121年2月29日止', 'until 2032-02-29', '2032-02-29'],
    ['renewal-window-closing', '展期期限至民國121年2月29日止', 'ends on 2032-02-29', '2032-02-29'],
    ['reissuance-window-opened', '民國121年2月29日屆滿', 'limit on 2032-02-29', '2033-02-28'],
    ['reissuance-window-closing', '換發期限至民國122年2月28日止', 'ends on 2033-02-28', '2033-02-28'],
  ] as const)('%s: the dates of the card issued on 2024-02-29', (kind, zh, en, lastDay) => {
    const notice = renderNotice({
      kind,
      addressee: 'holder',
      holderName: '陳大文',
      cardIssuedAt: ISSUED,
      dueAt: ISSUED,
      serialHex: null,
      channel: 'email',
    });
    expect(notice.text).toContain(zh);
    expect(notice.text).toContain(en);
    expect(notice.text).toContain(lastDay);
    expect(notice.text).toMatch(/^陳大文 您好：/);
    expect(notice.subject).toMatch(/^【內政部憑證管理中心】.+ \/ .+/);
    expect(notice.sms).not.toContain('陳大文');
  });

  it.each([...LIFECYCLE_NOTICE_KINDS, ...TRANSACTIONAL_NOTICE_KINDS] as NoticeKind[])('%s renders in both languages', (kind) => {
    const notice = renderNotice({
      kind,
      addressee: 'previous-contact',
      holderName: '陳大文',
      cardIssuedAt: ISSUED,
      dueAt: new Date('2026-11-28T01:00:00Z'),
      serialHex: '0A1B',
      channel: 'sms',
    });
    expect(notice.text).toMatch(/[\u4e00-\u9fff]/);
    expect(notice.text).toMatch(/[A-Za-z]{4,}/);
    // a previous address is not greeted by name: it may no longer be the holder's
    expect(notice.text).not.toContain('陳大文');
    expect(notice.sms.length).toBeLessThan(160);
  });

  it('verification codes', () => {
    const message = renderVerificationCode('482913', 10);
    expect(message.sms).toContain('482913');
    expect(message.sms).toContain('10 分鐘內有效');
  });
});
