// A JUnit XML report (the format CI systems show as test results): one <testsuites> holding one <testsuite>,
// one <testcase> per checked input. Damage is a <failure>, an input that could not be read an <error>.

export interface JunitCase {
  /** The testcase name: the input's path. */
  name: string;
  classname: string;
  /** Wall time, seconds. */
  seconds: number;
  failure?: { message: string; type: string; text: string };
  error?: { message: string; type: string; text: string };
}

/**
 * Text without what XML 1.0 cannot carry: control bytes other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF.
 * (A file name can hold any byte but NUL and `/`; a report must still parse.)
 */
export function xmlSafe(s: string): string {
  return s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
}

/** Escapes text for an XML attribute value (double-quoted): also tab, CR and LF, which attributes would normalise. */
export function xmlAttr(s: string): string {
  return xmlSafe(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** Escapes text for element content. */
export function xmlText(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

const secs = (s: number) => (Math.round(s * 1000) / 1000).toFixed(3);

/** The whole report; `suite` names both the <testsuites> and the <testsuite>. */
export function junitXml(suite: string, cases: readonly JunitCase[], now: Date): string {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const time = secs(cases.reduce((t, c) => t + c.seconds, 0));
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(suite)}" ${counts} time="${time}">`,
    `  <testsuite name="${xmlAttr(suite)}" ${counts} skipped="0" time="${time}" timestamp="${now.toISOString().slice(0, 19)}">`,
  ];
  for (const c of cases) {
    const head = `    <testcase name="${xmlAttr(c.name)}" classname="${xmlAttr(c.classname)}" time="${secs(c.seconds)}"`;
    const problem = c.failure ? ['failure', c.failure] as const : c.error ? ['error', c.error] as const : null;
    if (!problem) {
      lines.push(`${head}/>`);
      continue;
    }
    const [tag, p] = problem;
    lines.push(`${head}>`);
    lines.push(`      <${tag} message="${xmlAttr(p.message)}" type="${xmlAttr(p.type)}">${xmlText(p.text)}</${tag}>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
