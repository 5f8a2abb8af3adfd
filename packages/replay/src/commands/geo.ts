// Geo commands (Redis' geo.c, geohash.c): GEOADD is a ZADD of geohash scores; the STORE forms write a zset.
import { fail, lower } from '../keyspace.js';
import { newZset } from '../model.js';
import { ascii, parseDouble } from '../numbers.js';
import { type CommandTable, type Handler, Unsupported, arity } from './context.js';
import { CH, NX, XX, both, dbl, int, leadingOptions } from './options.js';
import { ZADD } from './zset.js';

const GEO_LAT_LIMIT = 85.05112878;

/** The 52-bit geohash Redis stores as a GEOADD member's score (geohashEncodeWGS84, step 26). */
export function geohashScore(lon: number, lat: number): number {
  const latOff = Math.trunc(((lat + GEO_LAT_LIMIT) / (2 * GEO_LAT_LIMIT)) * 2 ** 26);
  const lonOff = Math.trunc(((lon + 180) / 360) * 2 ** 26);
  let bits = 0;
  for (let i = 0; i < 32; i++) {
    if (Math.floor(latOff / 2 ** i) % 2 === 1) bits += 2 ** (2 * i);
    if (Math.floor(lonOff / 2 ** i) % 2 === 1) bits += 2 ** (2 * i + 1);
  }
  return bits;
}

/** GEOADD key [NX|XX] [CH] lon lat member...: a ZADD of geohash scores (which is how Redis propagates it). */
const GEOADD: Handler = (c, a) => {
  arity(a, 5);
  const { flags, next } = leadingOptions(a, 2, NX | XX | CH);
  if ((a.length - next) % 3 !== 0 || a.length === next || both(flags, NX, XX)) fail('ERR syntax error');
  const zargs: Uint8Array[] = [ascii('ZADD'), a[1]];
  for (let i = 2; i < next; i++) zargs.push(a[i]);
  for (let i = next; i < a.length; i += 3) {
    const lon = parseDouble(a[i]);
    const lat = parseDouble(a[i + 1]);
    if (lon === null || lat === null) fail('ERR value is not a valid float');
    if (lon < -180 || lon > 180 || lat < -GEO_LAT_LIMIT || lat > GEO_LAT_LIMIT) fail(`ERR invalid longitude,latitude pair ${lon},${lat}`);
    zargs.push(ascii(String(geohashScore(lon, lat))), a[i + 2]);
  }
  ZADD(c, zargs);
};

const EARTH_RADIUS_M = 6372797.560856;
const DEG_TO_RAD = Math.PI / 180;

/** The position a 52-bit geohash score stands for: the centre of its cell (geohashDecodeToLongLatWGS84). */
function geohashPosition(score: number): [number, number] {
  let lat = 0;
  let lon = 0;
  let bits = score;
  for (let i = 0; i < 26; i++) {
    if (bits % 2 === 1) lat += 2 ** i;
    bits = Math.floor(bits / 2);
    if (bits % 2 === 1) lon += 2 ** i;
    bits = Math.floor(bits / 2);
  }
  const latMin = -GEO_LAT_LIMIT + (lat / 2 ** 26) * (2 * GEO_LAT_LIMIT);
  const latMax = -GEO_LAT_LIMIT + ((lat + 1) / 2 ** 26) * (2 * GEO_LAT_LIMIT);
  const lonMin = -180 + (lon / 2 ** 26) * 360;
  const lonMax = -180 + ((lon + 1) / 2 ** 26) * 360;
  const x = Math.min(180, Math.max(-180, (lonMin + lonMax) / 2));
  const y = Math.min(GEO_LAT_LIMIT, Math.max(-GEO_LAT_LIMIT, (latMin + latMax) / 2));
  return [x, y];
}

/** Great-circle distance in metres (haversine, Redis' earth radius). */
function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lat1r = lat1 * DEG_TO_RAD;
  const lon1r = lon1 * DEG_TO_RAD;
  const lat2r = lat2 * DEG_TO_RAD;
  const lon2r = lon2 * DEG_TO_RAD;
  const u = Math.sin((lat2r - lat1r) / 2);
  const v = Math.sin((lon2r - lon1r) / 2);
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

function geoUnit(b: Uint8Array): number {
  const u = lower(b);
  if (u === 'm') return 1;
  if (u === 'km') return 1000;
  if (u === 'ft') return 0.3048;
  if (u === 'mi') return 1609.34;
  fail('ERR unsupported unit provided. please use M, KM, FT, MI');
}

function geoCoord(a: Uint8Array[], i: number): [number, number] {
  const lon = parseDouble(a[i]);
  const lat = parseDouble(a[i + 1]);
  if (lon === null || lat === null) fail('ERR value is not a valid float');
  if (lon < -180 || lon > 180 || lat < -GEO_LAT_LIMIT || lat > GEO_LAT_LIMIT) fail(`ERR invalid longitude,latitude pair ${lon},${lat}`);
  return [lon, lat];
}

/**
 * GEORADIUS / GEORADIUSBYMEMBER with STORE or STOREDIST, and GEOSEARCHSTORE: every member of the source is tested
 * against the shape (Redis scans geohash boxes around it, then applies the same test to each candidate). Without
 * STORE, GEORADIUS reads only.
 */
function geoStore(kind: 'radius' | 'radiusbymember' | 'searchstore'): Handler {
  return (c, a) => {
    let src: Uint8Array;
    let dst: Uint8Array | null = null;
    let storeDist = false;
    let center: [number, number] | null = null;
    let fromMember: Uint8Array | null = null;
    let radius = -1;
    let box: [number, number] | null = null;
    let unit = 1;
    let sort: 'none' | 'asc' | 'desc' = 'none';
    let count = 0;
    let any = false;
    let withOpts = false;
    let i: number;
    if (kind === 'searchstore') {
      arity(a, 3);
      dst = a[1];
      src = a[2];
      i = 3;
    } else {
      arity(a, kind === 'radius' ? 6 : 5);
      src = a[1];
      if (kind === 'radius') {
        center = geoCoord(a, 2);
        i = 4;
      } else {
        fromMember = a[2];
        i = 3;
      }
      radius = dbl(a[i]);
      if (radius < 0) fail('ERR radius cannot be negative');
      unit = geoUnit(a[i + 1]);
      i += 2;
    }
    for (; i < a.length; i++) {
      const o = lower(a[i]);
      const more = a.length - i - 1;
      if (o === 'withdist' || o === 'withhash' || o === 'withcoord') withOpts = true;
      else if (o === 'asc') sort = 'asc';
      else if (o === 'desc') sort = 'desc';
      else if (o === 'any') any = true;
      else if (o === 'count' && more >= 1) {
        count = int(a[++i]);
        if (count <= 0) fail('ERR COUNT must be > 0');
      } else if (o === 'store' && more >= 1 && kind !== 'searchstore') {
        dst = a[++i];
        storeDist = false;
      } else if (o === 'storedist' && kind === 'searchstore') storeDist = true;
      else if (o === 'storedist' && more >= 1) {
        dst = a[++i];
        storeDist = true;
      } else if (o === 'frommember' && more >= 1 && kind === 'searchstore') fromMember = a[++i];
      else if (o === 'fromlonlat' && more >= 2 && kind === 'searchstore') {
        center = geoCoord(a, i + 1);
        i += 2;
      } else if (o === 'byradius' && more >= 2 && kind === 'searchstore') {
        radius = dbl(a[i + 1]);
        if (radius < 0) fail('ERR radius cannot be negative');
        unit = geoUnit(a[i + 2]);
        i += 2;
      } else if (o === 'bybox' && more >= 3 && kind === 'searchstore') {
        const w = dbl(a[i + 1]);
        const h = dbl(a[i + 2]);
        if (w < 0 || h < 0) fail('ERR height or width cannot be negative');
        box = [w, h];
        unit = geoUnit(a[i + 3]);
        i += 3;
      } else fail('ERR syntax error');
    }
    if (kind === 'searchstore' && ((center === null) === (fromMember === null) || (radius < 0) === (box === null))) fail('ERR syntax error');
    if (any && count === 0) fail('ERR the ANY argument requires COUNT argument');
    if (dst === null) return; // GEORADIUS without STORE reads only
    if (withOpts) fail('ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options');
    const z = c.ks.typed(c.db, src, 'zset');
    if (z === undefined) return void c.ks.delete(c.db, dst); // no source: the destination goes
    if (fromMember !== null) {
      const m = z.indexOf(fromMember);
      if (m < 0) fail('ERR could not decode requested zset member');
      center = geohashPosition(z.nums![m]);
    }
    const [cx, cy] = center!;
    const found: { i: number; dist: number }[] = [];
    for (let k = 0; k < z.size; k++) {
      const [x, y] = geohashPosition(z.nums![k]);
      let dist: number;
      if (box === null) {
        dist = geoDistance(cx, cy, x, y);
        if (dist > radius * unit) continue;
      } else {
        if (geoDistance(x, y, cx, y) > (box[0] * unit) / 2 || geoDistance(x, y, x, cy) > (box[1] * unit) / 2) continue;
        dist = geoDistance(cx, cy, x, y);
      }
      found.push({ i: k, dist });
    }
    if (any && found.length > count) throw new Unsupported('COUNT ... ANY keeps the first members of Redis\' geohash box scan, whose order is not reproduced');
    if (sort === 'none' && count > 0 && !any) sort = 'asc';
    if (sort !== 'none') {
      const sign = sort === 'asc' ? 1 : -1;
      found.sort((p, q) => sign * (p.dist - q.dist) || z.keys.compareItems(p.i, q.i));
    }
    const kept = count > 0 ? found.slice(0, count) : found;
    if (kept.length === 0) return void c.ks.delete(c.db, dst);
    const out = newZset(kept.length);
    for (const f of kept) out.addNumber(z.keys.get(f.i), storeDist ? f.dist / unit : z.nums![f.i]);
    c.ks.setKey(c.db, dst, { type: 'zset', v: out });
  };
}

export const GEO_COMMANDS: CommandTable = [
  ['geoadd', GEOADD],
  ['georadius', geoStore('radius')],
  ['georadiusbymember', geoStore('radiusbymember')],
  ['geosearchstore', geoStore('searchstore')],
];
