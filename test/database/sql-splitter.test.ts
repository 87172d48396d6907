import { splitSqlStatements } from '../../database/sql-splitter';

describe('splitSqlStatements', () => {
  it('splits on top-level semicolons and records the line of each statement', () => {
    const sql = '-- header\nCREATE TABLE a (x int);\n\n/* block\n comment */ INSERT INTO a VALUES (1);\nSELECT 1';
    expect(splitSqlStatements(sql)).toEqual([
      { text: 'CREATE TABLE a (x int)', line: 2, index: 1 },
      { text: 'INSERT INTO a VALUES (1)', line: 5, index: 2 },
      { text: 'SELECT 1', line: 6, index: 3 },
    ]);
  });

  it('keeps semicolons inside strings, quoted identifiers, comments and dollar quotes', () => {
    const sql = [
      "SELECT 'a;b', 'it''s;', E'x\\';y', \"we;ird\";",
      'DO $$ BEGIN PERFORM 1; END $$;',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$;',
      'SELECT /* nested /* ; */ ; */ 2;',
      'SELECT $1::int;',
    ].join('\n');
    const texts = splitSqlStatements(sql).map((s) => s.text);
    expect(texts).toEqual([
      "SELECT 'a;b', 'it''s;', E'x\\';y', \"we;ird\"",
      'DO $$ BEGIN PERFORM 1; END $$',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$',
      'SELECT /* nested /* ; */ ; */ 2',
      'SELECT $1::int',
    ]);
  });

  it('keeps SQL-standard function bodies (BEGIN ATOMIC ... END) whole', () => {
    const sql = 'CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;';
    const texts = splitSqlStatements(sql).map((s) => s.text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/SELECT 2; END$/);
    expect(texts[1]).toBe('SELECT 3');
  });

  it('skips empty statements and comment-only text', () => {
    expect(splitSqlStatements(';;\n-- only a comment\n/* and this */;')).toEqual([]);
  });

  it('reports unterminated literals with their line', () => {
    expect(() => splitSqlStatements("SELECT 1;\nSELECT 'oops")).toThrow('unterminated string literal starting at line 2');
    expect(() => splitSqlStatements('DO $x$ BEGIN')).toThrow('unterminated dollar-quoted string $x$ starting at line 1');
    expect(() => splitSqlStatements('/* never closed')).toThrow('unterminated block comment starting at line 1');
  });
});
