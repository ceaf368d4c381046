// A checkpoint in a browser: a File from an <input type="file">, a drag-and-drop, or a Blob from
// fetch(). Each read slices just its range, so browsers that keep large files on disk never
// copy the whole checkpoint into memory at once.
import { checkRange, type ByteSource } from './byte-source.js';

export class BlobByteSource implements ByteSource {
  private closed = false;

  constructor(private readonly blob: Blob) {}

  get size(): number {
    return this.blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new Error('read after close');
    checkRange(offset, length, this.blob.size);
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    if (bytes.length !== length) {
      throw new Error(`read ${bytes.length} of ${length} bytes at offset ${offset}`);
    }
    return bytes;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
