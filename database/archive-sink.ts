/**
 * Where archived partitions go: a port with two implementations, an S3 bucket (the Lambda) and a
 * local folder (local runs and tests). Keys are relative, `/`-separated paths such as
 * `connecthub/posts/posts_p2024_01.jsonl.gz`.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

/** Storage for archived partitions. */
export interface ArchiveSink {
  /** Human-readable location, e.g. `s3://bucket/prefix/` or `/path/to/archive`. */
  readonly description: string;
  /**
   * Stores everything `body` yields under `key` (replacing an earlier object with that key), reading it as it comes —
   * nothing is staged on local disk. Resolves with the number of bytes stored. On failure the partial object is
   * discarded (S3: the multipart upload is aborted) and `body` is left destroyed or unread.
   */
  putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }>;
  /** Stores a small text object under `key`. */
  putText(key: string, text: string, contentType: string): Promise<void>;
  /** Reads back the object stored under `key`. */
  open(key: string): Promise<Readable>;
  /** Where `key` is stored, for reports (`s3://bucket/prefix/key`, `/archive/key`). */
  locationOf(key: string): string;
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`archive key "${key}" is not allowed: expected a relative path of non-empty segments without "." or ".."`);
  }
}

/** Archive in a local folder (created on first write). */
export class LocalFolderArchiveSink implements ArchiveSink {
  readonly description: string;
  private readonly root: string;

  /** @param root folder to write into; relative paths resolve against the working directory */
  constructor(root: string) {
    if (!root) throw new Error('archive folder must be a non-empty path');
    this.root = path.resolve(root);
    this.description = this.root;
  }

  locationOf(key: string): string {
    checkKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async putStream(key: string, body: Readable, _contentType?: string): Promise<{ readonly bytes: number }> {
    const target = this.locationOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write next to the target and rename, so a crash never leaves a half-written archive under the final name.
    const partial = `${target}.partial`;
    try {
      await pipeline(body, createWriteStream(partial));
    } catch (e) {
      await fs.rm(partial, { force: true });
      throw e;
    }
    const { size } = await fs.stat(partial);
    await fs.rename(partial, target);
    return { bytes: size };
  }

  async putText(key: string, text: string, _contentType?: string): Promise<void> {
    const target = this.locationOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(`${target}.partial`, text, 'utf8');
    await fs.rename(`${target}.partial`, target);
  }

  async open(key: string): Promise<Readable> {
    const target = this.locationOf(key);
    await fs.access(target);
    return createReadStream(target);
  }
}

/** Props of {@link S3ArchiveSink}. */
export interface S3ArchiveSinkProps {
  /** The S3 client (region and credentials come from it). */
  readonly client: S3Client;
  /** Bucket name. */
  readonly bucket: string;
  /** Key prefix; a trailing `/` is added when missing. @default '' (bucket root) */
  readonly prefix?: string;
  /** KMS key for SSE-KMS; without it objects use the bucket's default encryption. @default bucket default */
  readonly kmsKeyArn?: string;
  /**
   * Streams longer than this are uploaded in parts of this size (S3 minimum 5 MiB; at most 10,000 parts, so 64 MiB
   * parts carry up to 625 GiB). One part is held in memory at a time: size the function's memory above it.
   * @default 64 MiB
   */
  readonly partSizeBytes?: number;
}

const MIB = 1024 * 1024;
/** S3's limit on the parts of one multipart upload. */
const MAX_PARTS = 10_000;

/** Archive in an S3 bucket, encrypted with SSE-KMS when a key is given. */
export class S3ArchiveSink implements ArchiveSink {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly kmsKeyArn?: string;
  private readonly partSize: number;

  constructor(props: S3ArchiveSinkProps) {
    const problems: string[] = [];
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(props.bucket ?? '')) {
      problems.push(`bucket "${props.bucket}" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
    }
    const partSize = props.partSizeBytes ?? 64 * MIB;
    if (!Number.isInteger(partSize) || partSize < 5 * MIB) {
      problems.push(`partSizeBytes ${props.partSizeBytes} is not allowed: must be an integer of at least ${5 * MIB} (5 MiB)`);
    }
    if (problems.length > 0) throw new Error(`invalid S3 archive settings: ${problems.join('; ')}`);
    this.client = props.client;
    this.bucket = props.bucket;
    const prefix = (props.prefix ?? '').replace(/^\/+/, '');
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.kmsKeyArn = props.kmsKeyArn || undefined;
    this.partSize = partSize;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  locationOf(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return `${this.prefix}${key}`;
  }

  private encryption(): { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string; BucketKeyEnabled?: boolean } {
    return this.kmsKeyArn ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyArn, BucketKeyEnabled: true } : {};
  }

  async putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }> {
    const Key = this.objectKey(key);
    const where = this.locationOf(key);
    let uploadId: string | undefined;
    const parts: Array<{ ETag: string; PartNumber: number }> = [];
    const uploadPart = async (part: Buffer): Promise<void> => {
      if (uploadId === undefined) {
        const created = await this.client.send(
          new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: contentType, ...this.encryption() }),
        );
        if (!created.UploadId) throw new Error(`S3 returned no UploadId for ${where}`);
        uploadId = created.UploadId;
      }
      const PartNumber = parts.length + 1;
      if (PartNumber > MAX_PARTS) throw new Error(`${where} needs more than ${MAX_PARTS} parts of ${this.partSize} bytes: raise partSizeBytes`);
      const res = await this.client.send(
        new UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber, Body: part, ContentLength: part.length }),
      );
      if (!res.ETag) throw new Error(`S3 returned no ETag for part ${PartNumber} of ${where}`);
      parts.push({ ETag: res.ETag, PartNumber });
    };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    try {
      // Only one part is buffered: the producer waits (backpressure) while a part is uploading.
      for await (const chunk of body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        pending.push(buffer);
        pendingBytes += buffer.length;
        total += buffer.length;
        while (pendingBytes >= this.partSize) {
          const joined = Buffer.concat(pending, pendingBytes);
          await uploadPart(joined.subarray(0, this.partSize));
          const rest = joined.subarray(this.partSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
        }
      }
      const last = Buffer.concat(pending, pendingBytes);
      if (uploadId === undefined) {
        // Smaller than one part: a single PutObject.
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key, Body: last, ContentLength: last.length, ContentType: contentType, ...this.encryption() }),
        );
        return { bytes: total };
      }
      if (last.length > 0) await uploadPart(last);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      return { bytes: total };
    } catch (e) {
      if (uploadId !== undefined) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })).catch(() => undefined);
      }
      body.destroy();
      throw e;
    }
  }

  async putText(key: string, text: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: text, ContentType: contentType, ...this.encryption() }),
    );
  }

  async open(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    const body = res.Body;
    if (body instanceof Readable) return body;
    if (body && typeof (body as { transformToByteArray?: unknown }).transformToByteArray === 'function') {
      const bytes = await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      return Readable.from([Buffer.from(bytes)]);
    }
    throw new Error(`S3 returned no readable body for ${this.locationOf(key)}`);
  }
}
