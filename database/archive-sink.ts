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
  /** Stores the local file `localPath` under `key` (replacing an earlier object with that key). */
  putFile(key: string, localPath: string, contentType: string): Promise<void>;
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

  async putFile(key: string, localPath: string, _contentType?: string): Promise<void> {
    const target = this.locationOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write next to the target and rename, so a crash never leaves a half-written archive under the final name.
    const partial = `${target}.partial`;
    await pipeline(createReadStream(localPath), createWriteStream(partial));
    await fs.rename(partial, target);
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
  /** Files larger than this are uploaded in parts of this size (S3 minimum 5 MiB). @default 64 MiB */
  readonly partSizeBytes?: number;
}

const MIB = 1024 * 1024;

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

  async putFile(key: string, localPath: string, contentType: string): Promise<void> {
    const Key = this.objectKey(key);
    const { size } = await fs.stat(localPath);
    if (size <= this.partSize) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: createReadStream(localPath),
          ContentLength: size,
          ContentType: contentType,
          ...this.encryption(),
        }),
      );
      return;
    }
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: contentType, ...this.encryption() }),
    );
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error(`S3 returned no UploadId for ${this.locationOf(key)}`);
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      const handle = await fs.open(localPath, 'r');
      try {
        for (let offset = 0, PartNumber = 1; offset < size; offset += this.partSize, PartNumber++) {
          const length = Math.min(this.partSize, size - offset);
          const buffer = Buffer.alloc(length);
          await handle.read(buffer, 0, length, offset);
          const res = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber, Body: buffer }));
          if (!res.ETag) throw new Error(`S3 returned no ETag for part ${PartNumber} of ${this.locationOf(key)}`);
          parts.push({ ETag: res.ETag, PartNumber });
        }
      } finally {
        await handle.close();
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
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
