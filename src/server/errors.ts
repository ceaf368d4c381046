// OpenAI-style errors: every failure the server reports has the body
// {error: {message, type, param, code}} and the HTTP status the OpenAI API uses for that class,
// so clients (the official SDKs included) surface a readable message instead of a parse failure.

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  /** Extra response headers, e.g. Retry-After on 429. */
  headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ApiErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

export function invalidRequest(
  message: string,
  param: string | null = null,
  code: string | null = null,
) {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

export function modelNotFound(model: string, served: string): ApiError {
  return new ApiError(
    404,
    `The model '${model}' does not exist. This server serves '${served}' (see GET /v1/models).`,
    'invalid_request_error',
    'model',
    'model_not_found',
  );
}

export function notFound(message: string, param: string | null = null): ApiError {
  return new ApiError(404, message, 'not_found_error', param, 'not_found');
}

export function unauthorized(message: string): ApiError {
  return new ApiError(401, message, 'authentication_error', null, 'invalid_api_key');
}

export function queueFull(retryAfterSeconds: number): ApiError {
  const err = new ApiError(
    429,
    `The server is at capacity (every batch slot busy and the wait queue full). Retry in ${retryAfterSeconds} s.`,
    'rate_limit_error',
    null,
    'rate_limit_exceeded',
  );
  err.headers['retry-after'] = String(retryAfterSeconds);
  return err;
}

export function serverError(message: string): ApiError {
  return new ApiError(500, message, 'server_error', null, 'internal_error');
}

/** The model's backend can no longer run (its GPU device is gone): 503 until a restart. */
export function backendUnavailable(message: string): ApiError {
  return new ApiError(
    503,
    `The model cannot run any more: ${message}. The server must be restarted.`,
    'server_error',
    null,
    'backend_unavailable',
  );
}
