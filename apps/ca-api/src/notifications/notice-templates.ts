import { addSeconds, cardLifetime, taiwanCalendarDate } from '@moica/policy';
import type { NoticeAddressee, NoticeChannel, NoticeKind } from './notice-kinds';

/**
 * The texts of the notices, in Traditional Chinese and English. Every message
 * carries both languages (Chinese first): the CA does not record a language
 * preference, and an official notice in Taiwan is read in Chinese first.
 * Dates are Taiwan calendar days (UTC+8); Chinese uses the ROC year
 * (民國 = Gregorian - 1911), as official documents do.
 *
 * No national ID, user code or PIN ever appears in a message. SMS texts do
 * not name the holder (a phone's lock screen shows them).
 */
export interface NoticeContext {
  readonly kind: NoticeKind;
  readonly addressee: NoticeAddressee;
  readonly holderName: string;
  /** First issuance of the card: the anchor of every lifecycle date (lifecycle notices). */
  readonly cardIssuedAt: Date | null;
  /** When the notice became due: the event's instant for transactional notices. */
  readonly dueAt: Date;
  /** The certificate serial in hex, when the notice is about one certificate. */
  readonly serialHex: string | null;
  /** contact-details-changed: the channel whose address changed. */
  readonly channel: NoticeChannel;
}

export interface RenderedNotice {
  readonly subject: string;
  readonly text: string;
  readonly sms: string;
}

interface Texts {
  zhSubject: string;
  enSubject: string;
  zh: string;
  en: string;
  zhSms: string;
  enSms: string;
}

const SERVICE_ZH = '內政部憑證管理中心';
const SERVICE_EN = 'MOICA (Ministry of the Interior Certification Authority)';
const FOOTER =
  '本信件由系統自動發送，請勿直接回覆。如有疑問，請洽內政部憑證管理中心客服或戶政事務所。\n' +
  'This message was sent automatically; please do not reply. For help, contact the MOICA service desk or a household registration office.';

/** 民國120年12月31日 */
export function rocDate(instant: Date): string {
  const day = taiwanCalendarDate(instant);
  return `民國${day.year - 1911}年${day.month}月${day.day}日`;
}

/** 2031-12-31 */
export function isoDay(instant: Date): string {
  const day = taiwanCalendarDate(instant);
  return `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
}

/** The last Taiwan day of a half-open window closing at `closesAt`. */
function lastDayOf(closesAt: Date): Date {
  return addSeconds(closesAt, -1);
}

function texts(context: NoticeContext): Texts {
  const serialZh = context.serialHex ? `（憑證序號 ${context.serialHex}）` : '';
  const serialEn = context.serialHex ? ` (serial ${context.serialHex})` : '';
  const at = context.dueAt;
  const life = context.cardIssuedAt ? cardLifetime(context.cardIssuedAt) : null;
  const need = (): NonNullable<typeof life> => {
    if (!life) throw new Error(`notice ${context.kind} needs the card's issuance instant`);
    return life;
  };
  switch (context.kind) {
    case 'renewal-window-opened': {
      const l = need();
      const expiry = lastDayOf(l.fiveYearEnd);
      const close = lastDayOf(l.renewal.closesAt);
      return {
        zhSubject: '自然人憑證即將到期，已可辦理展期',
        enSubject: 'Your citizen certificate expires soon: renewal is open',
        zh: `您的自然人憑證將於${rocDate(expiry)}到期，自即日起可辦理展期，期限至${rocDate(close)}止。展期可於線上以晶片卡辦理，或至任一戶政事務所臨櫃辦理。`,
        en: `Your citizen certificate expires on ${isoDay(expiry)}. You can renew it from today until ${isoDay(close)}, online with your card or at any household registration office.`,
        zhSms: `您的自然人憑證將於${rocDate(expiry)}到期，已可辦理展期。`,
        enSms: `Your certificate expires ${isoDay(expiry)}; renewal is open.`,
      };
    }
    case 'expired-but-renewable': {
      const l = need();
      const close = lastDayOf(l.renewal.closesAt);
      return {
        zhSubject: '自然人憑證已到期，仍可辦理展期',
        enSubject: 'Your citizen certificate has expired but can still be renewed',
        zh: `您的自然人憑證已到期，但仍可辦理展期至${rocDate(close)}止。逾期須重新臨櫃申請並繳費。`,
        en: `Your citizen certificate has expired. You can still renew it until ${isoDay(close)}; after that you must apply again in person and pay the fee.`,
        zhSms: `您的自然人憑證已到期，展期期限至${rocDate(close)}。`,
        enSms: `Your certificate expired; renew by ${isoDay(close)}.`,
      };
    }
    case 'renewal-window-closing': {
      const l = need();
      const close = lastDayOf(l.renewal.closesAt);
      return {
        zhSubject: '自然人憑證展期期限即將截止',
        enSubject: 'The renewal period of your citizen certificate ends soon',
        zh: `您的自然人憑證展期期限至${rocDate(close)}止，逾期須重新臨櫃申請並繳費。`,
        en: `The renewal period of your citizen certificate ends on ${isoDay(close)}. After that you must apply again in person and pay the fee.`,
        zhSms: `自然人憑證展期期限至${rocDate(close)}止。`,
        enSms: `Certificate renewal ends ${isoDay(close)}.`,
      };
    }
    case 'reissuance-window-opened': {
      const l = need();
      const close = lastDayOf(l.reissuance.closesAt);
      return {
        zhSubject: '自然人憑證使用期限將屆，已可線上換發',
        enSubject: 'Your citizen certificate card reaches its 8-year limit: online re-issuance is open',
        zh: `您的自然人憑證卡片使用期限將於${rocDate(l.capLastSecond)}屆滿（最長8年）。自即日起至${rocDate(close)}止，可於線上申請換發新卡，繳費後以郵寄送達，收到後請於線上開卡。`,
        en: `Your citizen certificate card reaches its 8-year limit on ${isoDay(l.capLastSecond)}. Until ${isoDay(close)} you can order a new card online; after payment it is mailed to you, and you activate it online.`,
        zhSms: `自然人憑證可線上換發至${rocDate(close)}。`,
        enSms: `Online card re-issuance open until ${isoDay(close)}.`,
      };
    }
    case 'reissuance-window-closing': {
      const l = need();
      const close = lastDayOf(l.reissuance.closesAt);
      return {
        zhSubject: '自然人憑證線上換發期限即將截止',
        enSubject: 'Online re-issuance of your citizen certificate card ends soon',
        zh: `自然人憑證線上換發期限至${rocDate(close)}止，逾期須至戶政事務所重新申請並繳費。`,
        en: `Online re-issuance of your citizen certificate card ends on ${isoDay(close)}. After that you must apply again in person and pay the fee.`,
        zhSms: `自然人憑證線上換發至${rocDate(close)}截止。`,
        enSms: `Online re-issuance ends ${isoDay(close)}.`,
      };
    }
    case 'certificate-issued':
      return {
        zhSubject: '自然人憑證已核發',
        enSubject: 'Your citizen certificate has been issued',
        zh: `您的自然人憑證已於${rocDate(at)}核發${serialZh}。若非您本人申請，請立即洽戶政事務所辦理廢止。`,
        en: `Your citizen certificate was issued on ${isoDay(at)}${serialEn}. If you did not apply for it, have it revoked at a household registration office at once.`,
        zhSms: `您的自然人憑證已於${rocDate(at)}核發。`,
        enSms: `Your certificate was issued ${isoDay(at)}.`,
      };
    case 'certificate-suspended':
      return {
        zhSubject: '自然人憑證已停用',
        enSubject: 'Your citizen certificate has been suspended',
        zh: `您的自然人憑證已於${rocDate(at)}停用${serialZh}。可以用戶代碼於線上或至戶政事務所辦理復用。若非您本人所為，請立即洽戶政事務所。`,
        en: `Your citizen certificate was suspended on ${isoDay(at)}${serialEn}. You can resume it online with your user code or at a household registration office. If this was not you, contact a household registration office at once.`,
        zhSms: `您的自然人憑證已於${rocDate(at)}停用，非本人所為請洽戶政事務所。`,
        enSms: `Your certificate was suspended ${isoDay(at)}.`,
      };
    case 'certificate-resumed':
      return {
        zhSubject: '自然人憑證已復用',
        enSubject: 'Your citizen certificate has been resumed',
        zh: `您的自然人憑證已於${rocDate(at)}復用${serialZh}。若非您本人所為，請立即辦理停用並洽戶政事務所。`,
        en: `Your citizen certificate was resumed on ${isoDay(at)}${serialEn}. If this was not you, suspend it and contact a household registration office at once.`,
        zhSms: `您的自然人憑證已於${rocDate(at)}復用，非本人所為請立即停用。`,
        enSms: `Your certificate was resumed ${isoDay(at)}.`,
      };
    case 'certificate-revoked':
      return {
        zhSubject: '自然人憑證已廢止',
        enSubject: 'Your citizen certificate has been revoked',
        zh: `您的自然人憑證已於${rocDate(at)}廢止${serialZh}，廢止後無法回復。如需憑證，請至戶政事務所重新申請。`,
        en: `Your citizen certificate was revoked on ${isoDay(at)}${serialEn}. Revocation is final; to get a certificate again, apply at a household registration office.`,
        zhSms: `您的自然人憑證已於${rocDate(at)}廢止。`,
        enSms: `Your certificate was revoked ${isoDay(at)}.`,
      };
    case 'contact-details-changed': {
      const whatZh = context.channel === 'email' ? '聯絡電子郵件' : '行動電話號碼';
      const whatEn = context.channel === 'email' ? 'contact e-mail address' : 'mobile number';
      const whereZh = context.addressee === 'previous-contact' ? `您原登記的${whatZh}` : `您的${whatZh}`;
      const whereEn = context.addressee === 'previous-contact' ? `the ${whatEn} registered before this one` : `your ${whatEn}`;
      return {
        zhSubject: `自然人憑證${whatZh}已變更`,
        enSubject: `The ${whatEn} of your citizen certificate has changed`,
        zh: `${whereZh}已於${rocDate(at)}變更，本通知寄至變更前及變更後的地址。若非您本人所為，請立即洽戶政事務所。`,
        en: `The ${whatEn} of your citizen certificate record was changed on ${isoDay(at)}; this notice goes to ${whereEn} and to the new one. If this was not you, contact a household registration office at once.`,
        zhSms: `自然人憑證${whatZh}已於${rocDate(at)}變更，非本人所為請洽戶政事務所。`,
        enSms: `Your certificate ${whatEn} was changed ${isoDay(at)}.`,
      };
    }
  }
}

/** The e-mail (subject and text) and the SMS text of a notice. */
export function renderNotice(context: NoticeContext): RenderedNotice {
  const t = texts(context);
  const greetingZh = context.addressee === 'holder' ? `${context.holderName} 您好：` : '您好：';
  const greetingEn = context.addressee === 'holder' ? `Dear ${context.holderName},` : 'Hello,';
  return {
    subject: `【${SERVICE_ZH}】${t.zhSubject} / ${t.enSubject}`,
    text: [greetingZh, '', t.zh, '', SERVICE_ZH, '', '----', '', greetingEn, '', t.en, '', SERVICE_EN, '', '----', FOOTER, ''].join(
      '\n',
    ),
    sms: `【${SERVICE_ZH}】${t.zhSms} MOICA: ${t.enSms}`,
  };
}

/**
 * A verification code for a contact change (ca-api; DOMAIN.md: codes go by
 * SMS). Send it with NotificationChannels.sendSms / sendEmail; never store
 * or log the rendered text.
 */
export function renderVerificationCode(code: string, validMinutes: number): RenderedNotice {
  const zh = `您的自然人憑證驗證碼為 ${code}，${validMinutes} 分鐘內有效。請勿將驗證碼告訴任何人。`;
  const en = `Your MOICA verification code is ${code}, valid for ${validMinutes} minutes. Never share it.`;
  return {
    subject: `【${SERVICE_ZH}】驗證碼 / Verification code`,
    text: `${zh}\n\n${en}\n\n----\n${FOOTER}\n`,
    sms: `【${SERVICE_ZH}】${zh} ${en}`,
  };
}
