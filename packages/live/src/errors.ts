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

/** The one error class of @redis-persist/live. `server` names the `host:port` it concerns, when there is one. */
export class LiveError extends Error {
  override readonly name = 'LiveError';
  /** The server's error reply as it sent it (`NOPERM User ...`), for codes reply/noperm/auth/cluster when there was one. */
  reply?: string;
  constructor(
    readonly code: LiveErrorCode,
    message: string,
    readonly server?: string,
    override readonly cause?: unknown,
  ) {
    super(server !== undefined ? `${server}: ${message}` : message);
  }
}
