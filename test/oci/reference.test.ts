import { describe, expect, test } from 'bun:test';
import {
  familiarName, familiarRepository, formatReference, parseReference, repository, withDigest, withTag,
} from '../../src/oci/reference.ts';
import { KilnError } from '../../src/util/errors.ts';

const D = 'sha256:' + 'ab'.repeat(32);

// input → [domain, path, tag, digest, formatted, familiar]
const VALID: Array<[string, string, string, string | undefined, string | undefined, string]> = [
  ['alpine', 'docker.io', 'library/alpine', 'latest', undefined, 'alpine:latest'],
  ['alpine:3.19', 'docker.io', 'library/alpine', '3.19', undefined, 'alpine:3.19'],
  ['docker.io/alpine', 'docker.io', 'library/alpine', 'latest', undefined, 'alpine:latest'],
  ['index.docker.io/library/alpine:edge', 'docker.io', 'library/alpine', 'edge', undefined, 'alpine:edge'],
  ['docker.io/library/alpine', 'docker.io', 'library/alpine', 'latest', undefined, 'alpine:latest'],
  ['foo/bar', 'docker.io', 'foo/bar', 'latest', undefined, 'foo/bar:latest'],
  ['docker.io/library/a/b:1', 'docker.io', 'library/a/b', '1', undefined, 'library/a/b:1'],
  ['localhost/x', 'localhost', 'x', 'latest', undefined, 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000', 'x', 'latest', undefined, 'localhost:5000/x:latest'],
  [`127.0.0.1:5000/a/b:tag@${D}`, '127.0.0.1:5000', 'a/b', 'tag', D, `127.0.0.1:5000/a/b:tag@${D}`],
  [`alpine@${D}`, 'docker.io', 'library/alpine', undefined, D, `alpine@${D}`],
  ['ghcr.io/owner/img:v1.2_3-x', 'ghcr.io', 'owner/img', 'v1.2_3-x', undefined, 'ghcr.io/owner/img:v1.2_3-x'],
  ['[::1]:5000/x:y', '[::1]:5000', 'x', 'y', undefined, '[::1]:5000/x:y'],
  ['Example.COM/x', 'Example.COM', 'x', 'latest', undefined, 'Example.COM/x:latest'],
  ['a__b/c.d-e---f:t', 'docker.io', 'a__b/c.d-e---f', 't', undefined, 'a__b/c.d-e---f:t'],
  ['foo:5000', 'docker.io', 'library/foo', '5000', undefined, 'foo:5000'],
];

describe('parseReference', () => {
  for (const [input, domain, path, tag, digest, familiar] of VALID) {
    test(input, () => {
      const r = parseReference(input);
      expect(r).toEqual({ domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) } as never);
      expect(repository(r)).toBe(`${domain}/${path}`);
      expect(familiarName(r)).toBe(familiar);
      // the formatted form parses back to itself
      expect(parseReference(formatReference(r))).toEqual(r);
    });
  }

  const INVALID: Array<[string, RegExp]> = [
    ['', /repository name must have at least one component/],
    ['Alpine', /^invalid reference format: repository name \(library\/Alpine\) must be lowercase$/],
    ['foo/Bar:1', /repository name \(foo\/Bar\) must be lowercase/],
    ['ab'.repeat(32), /cannot specify 64-byte hexadecimal strings/],
    ['alpine:', /^invalid reference format/],
    ['alpine:-x', /^invalid reference format/],
    ['alpine@sha256:abc', /^invalid reference format/],
    [`alpine@sha256:${'a'.repeat(40)}`, /invalid checksum digest length/],
    [`alpine@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['-alpine', /^invalid reference format/],
    ['a//b', /^invalid reference format/],
    ['a/b c', /^invalid reference format/],
    ['localhost:5000/', /^invalid reference format/],
    [`x/${'a'.repeat(300)}`, /must not be more than 255 characters/],
  ];
  for (const [input, re] of INVALID) {
    test(`refuses ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
      let err: unknown;
      try {
        parseReference(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect((err as Error).message).toMatch(re);
    });
  }
});

describe('reference helpers', () => {
  test('familiarRepository', () => {
    expect(familiarRepository(parseReference('alpine'))).toBe('alpine');
    expect(familiarRepository(parseReference('ghcr.io/a/b'))).toBe('ghcr.io/a/b');
  });
  test('withDigest keeps the tag, withTag drops the digest', () => {
    const r = withDigest(parseReference('alpine:3'), D as never);
    expect(formatReference(r)).toBe(`docker.io/library/alpine:3@${D}`);
    expect(formatReference(withTag(r, 'edge'))).toBe('docker.io/library/alpine:edge');
    expect(() => withTag(r, 'bad tag')).toThrow(/invalid tag format/);
  });
});
