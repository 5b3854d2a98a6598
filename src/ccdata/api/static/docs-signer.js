// "Try it out" for the CC-CMS operations of /docs (docs/client.md): Authorize `authV2` with `AK:SK`, and each
// request is signed here, in the browser, exactly as ccdata/signing.py signs it (auth-v2, the `host` header signed).
// The secret never leaves the page. Plain synchronous SHA-256 rather than WebCrypto: crypto.subtle exists only
// in secure contexts (https or localhost), and Swagger UI's request interceptor is simplest synchronous.
(function () {
  "use strict";
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
  ]);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));

  function sha256(data) {
    const bitLength = data.length * 8;
    const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
    padded.set(data);
    padded[data.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
    view.setUint32(padded.length - 4, bitLength >>> 0);
    const h = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    const w = new Uint32Array(64);
    for (let offset = 0; offset < padded.length; offset += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    h.forEach((value, i) => outView.setUint32(4 * i, value));
    return out;
  }

  const utf8 = (text) => new TextEncoder().encode(text);
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

  function hmacHex(key, message) {
    let k = key.length > 64 ? sha256(key) : key;
    const block = new Uint8Array(64);
    block.set(k);
    const inner = new Uint8Array(64 + message.length);
    const outer = new Uint8Array(64 + 32);
    for (let i = 0; i < 64; i++) {
      inner[i] = block[i] ^ 0x36;
      outer[i] = block[i] ^ 0x5c;
    }
    inner.set(message, 64);
    outer.set(sha256(inner), 64);
    return hex(sha256(outer));
  }

  // Percent-encode every UTF-8 byte but A-Z a-z 0-9 - . _ ~ (upper-case hex), as the reference signer does.
  function normalize(text) {
    let out = "";
    for (const b of utf8(text)) {
      const c = String.fromCharCode(b);
      out += /[A-Za-z0-9\-._~]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  }

  const sorted = (items) => items.slice().sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

  // The Authorization value: `query` is a list of [name, value], `headers` an object of the signed headers.
  function authorization(ak, sk, moment, method, path, query, headers, body) {
    const names = sorted(Object.keys(headers)).map((n) => n.toLowerCase()).join(";");
    const lines = [method.toUpperCase(), path];
    if (query.length) lines.push(sorted(query.map(([k, v]) => normalize(k) + "=" + normalize(v || ""))).join("&"));
    lines.push(names);
    lines.push(sorted(Object.entries(headers).map(([k, v]) => normalize(k.toLowerCase()) + ":" + normalize(v)))
      .join("\n") + "\n");
    let canonical = lines.join("\n");
    if (body) canonical += normalize(body);
    const stamp = moment.toISOString().replace(/\.\d{3}Z$/, "Z");
    const prefix = `auth-v2/${ak}/${stamp}/${names}`;
    const signingKey = hmacHex(utf8(sk), utf8(prefix));
    return `${prefix}/${hmacHex(utf8(signingKey), utf8(canonical))}`;
  }

  // Swagger UI's request interceptor: a CC-CMS request whose Authorization holds `AK:SK` leaves signed.
  function signRequest(request) {
    const given = request.headers && request.headers.Authorization;
    if (!given || given.startsWith("auth-v2/") || given.indexOf(":") < 1) return request;
    const url = new URL(request.url, window.location.href);
    if (!url.pathname.startsWith("/rest/cmsapp/")) return request;
    const at = given.indexOf(":");
    let body = request.body == null ? "" : request.body;
    if (typeof body !== "string") body = JSON.stringify(body);
    request.body = body;
    const query = Array.from(url.searchParams.entries());
    request.headers.Authorization = authorization(given.slice(0, at), given.slice(at + 1), new Date(), request.method,
      url.pathname, query, { host: url.host }, body);
    return request;
  }

  window.ccdataSigner = { authorization, signRequest, sha256: (text) => hex(sha256(utf8(text))) };
})();
