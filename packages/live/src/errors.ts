import { RedisPersistError, type RedisPersistErrorInit, type RedisPersistErrorKind } from '@redis-persist/bytes';

/**
 * Machine-readable reason of a {@link LiveError}:
 * - `url`: the server address cannot be understood
 * - `connect`: no connection (refused, timed out, TLS handshake failed)
 * - `auth`: the server refused the credentials (WRONGPASS, NOAUTH)
 * - `noperm`: the user lacks a permission (-NOPERM)
 * - `protocol`: the server said something this client does not expect
 * - `reply`: the server answered a command with an error reply
 * - `closed`: the connection ended while a reply was awaited (or a command was sent after close())
 * - `timeout`: a connected server sent nothing for `timeoutMs` while a reply was awaited
 * - `cluster`: the cluster cannot serve a request (no owner for a slot, too many redirections), or a request does
 *   not fit a cluster (a key in a database other than 0)
 * - `not-empty`: a restore refused to write into a server that holds keys or functions (without replace/flush)
 * - `unsupported`: the server cannot hold what was asked (RESTORE before 2.6, functions before 7.0, a value the
 *   server's RDB version lacks)
 */
export type LiveErrorCode = 'url' | 'connect' | 'auth' | 'noperm' | 'protocol' | 'reply' | 'closed' | 'timeout' | 'cluster' | 'not-empty' | 'unsupported';

/** What a {@link LiveError} can say besides its message. */
export interface LiveErrorInit extends RedisPersistErrorInit {
  /** The `host:port` (or socket path) the error concerns; the message starts with it. */
  server?: string;
  /** The server's error reply as it sent it. */
  reply?: string;
}

const KIND: Record<LiveErrorCode, RedisPersistErrorKind> = {
  url: 'usage',
  connect: 'unreachable',
  closed: 'unreachable',
  timeout: 'unreachable',
  auth: 'server',
  noperm: 'server',
  protocol: 'server',
  reply: 'server',
  cluster: 'server',
  'not-empty': 'server',
  unsupported: 'server',
};

/**
 * The error of `@redis-persist/live`. A bad address is a usage error; no connection, or one that ended or fell
 * silent, `unreachable`; whatever a server refused or answered, `server`. The message reads `<server>: <what>`
 * (the server is part of `detail`: it is not a file).
 */
export class LiveError extends RedisPersistError<LiveErrorCode> {
  override readonly name: string = 'LiveError';
  /** The `host:port` it concerns, when there is one. */
  declare readonly server?: string;
  /** The server's error reply as it sent it (`NOPERM User ...`), for codes reply/noperm/auth/cluster when there was one. */
  declare reply?: string;
  constructor(code: LiveErrorCode, message: string, init: LiveErrorInit = {}) {
    const { server, reply, ...base } = init;
    super(code, server !== undefined ? `${server}: ${message}` : message, { ...base, kind: init.kind ?? KIND[code] });
    if (server !== undefined) this.server = server;
    if (reply !== undefined) this.reply = reply;
  }
}
