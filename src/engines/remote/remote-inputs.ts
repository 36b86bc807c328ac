/**
 * Images the remote engine lends to a remote server that can only fetch its input by URL (the
 * VISTA3D NIM takes `image` as a URL, not as an upload). Each image is served under an unguessable
 * token for as long as its request runs: the token is the capability, so the route needs no API
 * token (a NIM cannot send ours), and nothing is reachable once the request has ended.
 * @module
 */
import { randomBytes } from 'node:crypto';

export interface LentInput {
  /** Path below the server's root: `/v1/remote-inputs/<token>/<name>`. */
  readonly path: string;
  /** Stops serving it. */
  release(): void;
}

export interface RemoteInput {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export const REMOTE_INPUTS_PREFIX = '/v1/remote-inputs/';

export class RemoteInputs {
  readonly #inputs = new Map<string, RemoteInput>();

  /** Serves `bytes` as `name` until released. */
  lend(name: string, bytes: Uint8Array): LentInput {
    const token = randomBytes(24).toString('base64url');
    this.#inputs.set(token, { name, bytes });
    return { path: `${REMOTE_INPUTS_PREFIX}${token}/${encodeURIComponent(name)}`, release: () => void this.#inputs.delete(token) };
  }

  /** The image lent under `token`, when it is still lent and `name` matches. */
  get(token: string, name: string): RemoteInput | undefined {
    const input = this.#inputs.get(token);
    return input && input.name === name ? input : undefined;
  }

  get size(): number {
    return this.#inputs.size;
  }
}
