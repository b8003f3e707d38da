import type { OpenStackClient, RequestBody } from './client.js';

export type ImageStatus =
  | 'queued'
  | 'saving'
  | 'uploading'
  | 'importing'
  | 'active'
  | 'deactivated'
  | 'killed'
  | 'deleted'
  | 'pending_delete';

/** A Glance v2 image: custom properties are top-level string fields. */
export interface Image {
  id: string;
  name: string;
  status: ImageStatus;
  [property: string]: unknown;
}

type Signal = { signal?: AbortSignal };

/** The Glance v2 calls the driver makes. */
export class ImageApi {
  constructor(private readonly client: OpenStackClient) {}

  async createImage(image: Record<string, string>, options: Signal): Promise<Image> {
    const body = await this.client.request<Image>('image', {
      operation: 'createImage',
      method: 'POST',
      path: '/images',
      json: image,
      permanent: 'CloudError',
      ...options,
    });
    return body!;
  }

  async showImage(id: string, options: Signal): Promise<Image | undefined> {
    return this.client.request<Image>('image', {
      operation: 'showImage',
      path: `/images/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
  }

  /** Glance filters on any image property given as a query parameter. */
  async listImages(properties: Record<string, string>, options: Signal): Promise<Image[]> {
    const body = await this.client.request<{ images: Image[] }>('image', {
      operation: 'listImages',
      path: '/images',
      query: properties,
      ...options,
    });
    return body?.images ?? [];
  }

  async uploadImageData(id: string, data: () => RequestBody, options: Signal): Promise<void> {
    await this.client.request('image', {
      operation: 'uploadBinaryImageData',
      method: 'PUT',
      path: `/images/${encodeURIComponent(id)}/file`,
      body: () => ({ data: data(), contentType: 'application/octet-stream' }),
      ...options,
    });
  }

  async deleteImage(id: string, options: Signal): Promise<boolean> {
    const body = await this.client.request('image', {
      operation: 'deleteImage',
      method: 'DELETE',
      path: `/images/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
    return body !== undefined;
  }
}
