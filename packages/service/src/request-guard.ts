/**
 * Cross-site and DNS-rebinding guards of `livestyle-service serve`. A web page on another site can
 * POST a multipart form to any address without a CORS preflight, and a page whose host name is made to
 * resolve to 127.0.0.1 (DNS rebinding) reaches a loopback-bound server as if from its own origin:
 * - a POST or DELETE carrying an `Origin` other than the server's own (the `Host` it was reached at)
 *   or one of `allowOrigins` is refused with 403;
 * - on a loopback bind, a request whose `Host` is not a loopback name or address is refused with 403.
 * Requests without `Origin` (curl, server-side clients) pass the first check.
 */
import type { FastifyRequest } from 'fastify';

/** Loopback names and addresses a `Host` header may carry. */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The host name of a `Host` header value (port removed), or null when it does not parse. */
function hostnameOf(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

/** What a request may be refused for, by the server's bind address and allowed origins; null: it may pass. */
export function guardRequest(
  req: Pick<FastifyRequest, 'method' | 'headers'>,
  bindHost: string,
  allowOrigins: readonly string[],
): string | null {
  const host = req.headers.host ?? '';
  if (isLoopbackHost(bindHost)) {
    const name = hostnameOf(host);
    if (name === null || !isLoopbackHost(name))
      return `this server listens on a loopback address and answers only requests for a loopback host (got Host ${JSON.stringify(host)})`;
  }
  const origin = req.headers.origin;
  if ((req.method === 'POST' || req.method === 'DELETE') && origin !== undefined) {
    const own = [`http://${host}`, `https://${host}`];
    if (!own.includes(origin) && !allowOrigins.includes(origin))
      return `cross-site request refused (Origin ${origin}); a page on another origin needs --allow-origin ${origin}`;
  }
  return null;
}
