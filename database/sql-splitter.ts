/**
 * Splits a PostgreSQL script into its top-level statements, the way psql does, so that the
 * migrator can run them one at a time and name the statement that failed.
 *
 * Understands: `--` and nested `/* *\/` comments, '...' strings ('' escapes), E'...' strings
 * (backslash escapes), "quoted identifiers", dollar quoting ($$...$$, $tag$...$tag$), and
 * SQL-standard function bodies (`BEGIN ATOMIC ... END`), whose inner semicolons do not end the
 * statement.
 */

/** One statement of a script. */
export interface SqlStatement {
  /** The statement text without its terminating semicolon, trimmed. */
  readonly text: string;
  /** 1-based line of the statement's first significant character. */
  readonly line: number;
  /** 1-based index among the statements of the script. */
  readonly index: number;
}

const isIdentStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Splits `sql` into statements. Throws when a string, identifier, comment or dollar quote is not closed. */
export function splitSqlStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let current = '';
  let startLine = 0; // 0 = no significant character yet
  let line = 1;
  let i = 0;
  // BEGIN ATOMIC bodies: depth of BEGIN/CASE ... END nesting; 0 when outside one.
  let atomicDepth = 0;
  let previousWord = '';

  const mark = (): void => {
    if (startLine === 0) startLine = line;
  };
  const take = (n: number): void => {
    const chunk = sql.slice(i, i + n);
    for (const ch of chunk) if (ch === '\n') line++;
    current += chunk;
    i += n;
  };
  const flush = (): void => {
    const text = current.trim();
    if (startLine !== 0 && text !== '') {
      statements.push({ text, line: startLine, index: statements.length + 1 });
    }
    current = '';
    startLine = 0;
    previousWord = '';
  };
  const unterminated = (what: string, fromLine: number): never => {
    throw new Error(`unterminated ${what} starting at line ${fromLine}`);
  };

  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1] ?? '';

    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      // Comments are kept only inside a statement (they are harmless to the server).
      if (startLine !== 0) current += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const fromLine = line;
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql[j] === '/' && sql[j + 1] === '*') { depth++; j += 2; continue; }
        if (sql[j] === '*' && sql[j + 1] === '/') { depth--; j += 2; if (depth === 0) break; continue; }
        j++;
      }
      if (depth !== 0) unterminated('block comment', fromLine);
      const chunk = sql.slice(i, j);
      line += chunk.split('\n').length - 1;
      if (startLine !== 0) current += chunk;
      i = j;
      continue;
    }
    if (c === "'") {
      mark();
      const fromLine = line;
      const escapes = /[Ee]$/.test(current) && !isIdentChar(current.slice(-2, -1) || ' ');
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) unterminated('string literal', fromLine);
        if (escapes && sql[j] === '\\') { j += 2; continue; }
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") { j += 2; continue; }
          break;
        }
        j++;
      }
      take(j + 1 - i);
      previousWord = '';
      continue;
    }
    if (c === '"') {
      mark();
      const fromLine = line;
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) unterminated('quoted identifier', fromLine);
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') { j += 2; continue; }
          break;
        }
        j++;
      }
      take(j + 1 - i);
      previousWord = '';
      continue;
    }
    if (c === '$' && !isIdentChar(current.slice(-1) || ' ')) {
      const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (m) {
        mark();
        const fromLine = line;
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) unterminated(`dollar-quoted string ${tag}`, fromLine);
        take(end + tag.length - i);
        previousWord = '';
        continue;
      }
    }
    if (isIdentStart(c)) {
      mark();
      let j = i + 1;
      while (j < sql.length && isIdentChar(sql[j])) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (atomicDepth === 0) {
        if (previousWord === 'BEGIN' && word === 'ATOMIC') atomicDepth = 1;
      } else if (word === 'BEGIN' || word === 'CASE') {
        atomicDepth++;
      } else if (word === 'END') {
        atomicDepth--;
      }
      previousWord = word;
      take(j - i);
      continue;
    }
    if (c === ';' && atomicDepth === 0) {
      i++;
      flush();
      continue;
    }
    if (!/\s/.test(c)) {
      mark();
      previousWord = '';
    }
    take(1);
  }
  flush();
  return statements;
}
