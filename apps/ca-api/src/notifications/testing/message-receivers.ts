import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it. */
export interface ReceivedEmail {
  readonly to: string[];
  readonly subject: string;
  readonly messageId: string;
  readonly raw: string;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 for tests. `refuseRecipient`
 * answers RCPT TO: return an SMTP code and text to refuse (451 transient, 550
 * permanent), or null to accept.
 */
export async function startTestSmtpServer(): Promise<{
  url: string;
  received: ReceivedEmail[];
  refuseRecipient: (address: string) => { code: number; text: string } | null;
  setRefusal(fn: (address: string) => { code: number; text: string } | null): void;
  close(): Promise<void>;
}> {
  const received: ReceivedEmail[] = [];
  const state = { refuse: (_address: string): { code: number; text: string } | null => null };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const refusal = state.refuse(address.address);
      if (!refusal) return callback();
      const error = new Error(refusal.text) as Error & { responseCode: number };
      error.responseCode = refusal.code;
      return callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw)?.[1] ?? '';
        received.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          subject: decodeMimeHeader(header('Subject')),
          messageId: header('Message-ID').trim(),
          raw,
        });
        callback();
      });
    },
  });
  // A client that dies mid-message (a worker killed in a fault test) resets its connection: not our failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    get refuseRecipient() {
      return state.refuse;
    },
    setRefusal(fn) {
      state.refuse = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** RFC 2047 encoded-words (=?UTF-8?B?...?= / ?Q?) back to text. */
function decodeMimeHeader(value: string): string {
  return value
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

export interface ReceivedSms {
  readonly username: string;
  readonly dstaddr: string;
  readonly smbody: string;
  readonly clientid: string;
}

/**
 * A local HTTP receiver speaking the Mitake-style gateway protocol
 * (sms-gateway.channel.ts). Like the real gateway, it drops a repeated
 * clientid (answering Duplicate=Y). `answer` can override the reply.
 */
export async function startTestSmsGateway(): Promise<{
  url: string;
  received: ReceivedSms[];
  setAnswer(fn: ((sms: ReceivedSms) => { status: number; body: string } | null) | null): void;
  close(): Promise<void>;
}> {
  const received: ReceivedSms[] = [];
  const seen = new Set<string>();
  let answer: ((sms: ReceivedSms) => { status: number; body: string } | null) | null = null;
  let counter = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const sms: ReceivedSms = {
        username: form.get('username') ?? '',
        dstaddr: form.get('dstaddr') ?? '',
        smbody: form.get('smbody') ?? '',
        clientid: form.get('clientid') ?? '',
      };
      const override = answer?.(sms);
      if (override) {
        response.writeHead(override.status, { 'content-type': 'text/plain' }).end(override.body);
        return;
      }
      if (sms.clientid && seen.has(sms.clientid)) {
        response.writeHead(200, { 'content-type': 'text/plain' }).end(`[1]\nmsgid=dup\nstatuscode=1\nDuplicate=Y\n`);
        return;
      }
      seen.add(sms.clientid);
      received.push(sms);
      counter++;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`[1]\nmsgid=${counter}\nstatuscode=1\nAccountPoint=99\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/api/mtk/SmSend?CharsetURL=UTF8`,
    received,
    setAnswer(fn) {
      answer = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
