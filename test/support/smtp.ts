import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on a loopback port (the `smtp-server` package) that
 * keeps every message it accepted: what the merchant's mailbox would get.
 * `refuseNext` answers that many messages with a temporary failure (451)
 * first, as a busy mail server does, so retries can be seen.
 */
export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  raw: string;
}

export interface SmtpReceiver {
  url: string;
  emails: ReceivedEmail[];
  refuseNext: number;
  refused: number;
  stop(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const receiver: SmtpReceiver = { url: '', emails: [], refuseNext: 0, refused: 0, stop: async () => undefined };
  const server = new SMTPServer({
    // Plain SMTP on loopback: no certificate to trust, no login.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (receiver.refuseNext > 0) {
          receiver.refuseNext -= 1;
          receiver.refused += 1;
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        receiver.emails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((address) => address.address),
          subject: header(raw, 'subject'),
          messageId: header(raw, 'message-id'),
          text: bodyText(raw),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  receiver.url = `smtp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  receiver.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}

/** An unfolded header value (our subjects are plain ASCII, so no MIME words to decode). */
function header(raw: string, name: string): string {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((candidate) => candidate.toLowerCase().startsWith(`${name}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

/** The body of a single-part text message, quoted-printable decoded when it is so encoded. */
function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  if (header(raw, 'content-transfer-encoding').toLowerCase() !== 'quoted-printable') return body;
  const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
