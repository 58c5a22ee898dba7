import { ecpayCheckMacValue, ecpayUrlEncode, hasValidCheckMacValue } from './ecpay-check-mac';

/** The worked examples of ECPay's developer documentation (附錄 / 檢查碼機制). */
describe('ECPay CheckMacValue', () => {
  it('reproduces the documented MD5 example (e-invoice allowance notification)', () => {
    const params = {
      RtnCode: '1',
      RtnMsg: '',
      IA_Allow_No: '1909181313013546',
      IA_Invoice_No: 'UV11100019',
      IA_Date: '2019-09-18 13:13:23',
      IIS_Remain_Allowance_Amt: '0',
    };
    expect(ecpayCheckMacValue(params, { hashKey: 'ejCk326UnaZWKisg', hashIV: 'q9jcZX8Ib9LM8wYk' }, 'md5')).toBe('50A276E71DAE26343013958B405EEEA0');
  });

  it('encodes the AioCheckOut example exactly as the documentation shows (before lower-casing)', () => {
    const wrapped =
      'HashKey=pwFHCqoQZGmho4w6&ChoosePayment=ALL&EncryptType=1&ItemName=Apple iphone 15&MerchantID=3002607&MerchantTradeDate=2023/03/12 15:30:23' +
      '&MerchantTradeNo=ecpay20230312153023&PaymentType=aio&ReturnURL=https://www.ecpay.com.tw/receive.php&TotalAmount=30000&TradeDesc=促銷方案&HashIV=EkRm7iFT261dpevs';
    expect(ecpayUrlEncode(wrapped).toLowerCase()).toBe(
      'hashkey%3dpwfhcqoqzgmho4w6%26choosepayment%3dall%26encrypttype%3d1%26itemname%3dapple+iphone+15%26merchantid%3d3002607' +
        '%26merchanttradedate%3d2023%2f03%2f12+15%3a30%3a23%26merchanttradeno%3decpay20230312153023%26paymenttype%3daio' +
        '%26returnurl%3dhttps%3a%2f%2fwww.ecpay.com.tw%2freceive.php%26totalamount%3d30000%26tradedesc%3d%e4%bf%83%e9%8a%b7%e6%96%b9%e6%a1%88%26hashiv%3dekrm7ift261dpevs',
    );
  });

  it.each([
    ['a space', ' ', '+'],
    ['.NET leaves these alone', "-_.!*()", '-_.!*()'],
    ['.NET encodes these', "'~", '%27%7E'],
    ['UTF-8', '換', '%E6%8F%9B'],
  ])('URL-encodes %s like .NET', (_label, input, output) => {
    expect(ecpayUrlEncode(input)).toBe(output);
  });

  it('sorts names case-insensitively and ignores CheckMacValue itself', () => {
    const secrets = { hashKey: 'pwFHCqoQZGmho4w6', hashIV: 'EkRm7iFT261dpevs' };
    const a = ecpayCheckMacValue({ b: '2', A: '1', CheckMacValue: 'x' }, secrets);
    expect(a).toBe(ecpayCheckMacValue({ A: '1', b: '2' }, secrets));
    expect(a).toMatch(/^[0-9A-F]{64}$/);
  });

  it('verifies a signed notification and refuses any change to it', () => {
    const secrets = { hashKey: 'pwFHCqoQZGmho4w6', hashIV: 'EkRm7iFT261dpevs' };
    const fields: Record<string, string> = { MerchantID: '3002607', MerchantTradeNo: 'RI000000000001', RtnCode: '1', TradeAmt: '250' };
    fields.CheckMacValue = ecpayCheckMacValue(fields, secrets);
    expect(hasValidCheckMacValue(fields, secrets)).toBe(true);
    expect(hasValidCheckMacValue({ ...fields, CheckMacValue: fields.CheckMacValue.toLowerCase() }, secrets)).toBe(true);
    expect(hasValidCheckMacValue({ ...fields, TradeAmt: '25' }, secrets)).toBe(false);
    expect(hasValidCheckMacValue({ ...fields, CheckMacValue: 'zz' }, secrets)).toBe(false);
    expect(hasValidCheckMacValue(fields, { ...secrets, hashIV: 'EkRm7iFT261dpevX' })).toBe(false);
  });
});
