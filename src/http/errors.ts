import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { errorCodes, GateError, type ErrorCodeEntry } from '../domain/errors.ts';
import { newRequestId } from '../gate/operations.ts';

/**
 * Maps every failure to the registry in one place: schema errors to 2004
 * (missing) or 2005 (format), body parse errors to 2003, oversize bodies to
 * 2006, GateErrors to their code. Anything else is our bug: 1000, logged
 * without the request body (it may hold personal data).
 */
interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

function fieldPath(error: AjvError): string {
  const base = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (error.keyword === 'required') return [base, String(error.params.missingProperty)].filter(Boolean).join('.');
  return base || 'body';
}

function classify(error: FastifyError | GateError): { entry: ErrorCodeEntry; message: string } {
  if (error instanceof GateError) return { entry: error.entry, message: error.message };
  const validation = (error as FastifyError & { validation?: AjvError[] }).validation;
  if (validation && validation.length > 0) {
    const missing = validation.find((item) => item.keyword === 'required');
    const first = missing ?? validation[0];
    const entry = missing ? errorCodes.requiredFieldMissing : errorCodes.invalidFieldFormat;
    return { entry, message: `${entry.message}: ${fieldPath(first)}${missing ? '' : ` ${first.message ?? ''}`}`.trim() };
  }
  switch (error.code) {
    // A body too deep or too large to sign (outside the schema's fields) cannot carry a valid signature.
    case 'SIGNATURE_INPUT_TOO_LARGE':
    case 'SIGNATURE_INPUT_UNSUPPORTED':
      return { entry: errorCodes.invalidFieldFormat, message: `${errorCodes.invalidFieldFormat.message}: the request is too deeply nested or too large` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { entry: errorCodes.requestTooLarge, message: errorCodes.requestTooLarge.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { entry: errorCodes.unsupportedMediaType, message: errorCodes.unsupportedMediaType.message };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { entry: errorCodes.invalidJson, message: errorCodes.invalidJson.message };
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return { entry: errorCodes.invalidJson, message: errorCodes.invalidJson.message };
  }
  if (error.statusCode === 429) return { entry: errorCodes.tooManyRequests, message: errorCodes.tooManyRequests.message };
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return { entry: { ...errorCodes.invalidFieldFormat, httpStatus: error.statusCode }, message: errorCodes.invalidFieldFormat.message };
  }
  return { entry: errorCodes.internalError, message: errorCodes.internalError.message };
}

export function gateErrorHandler(log: Logger) {
  return (error: FastifyError | GateError, request: FastifyRequest, reply: FastifyReply) => {
    const { entry, message } = classify(error);
    if (entry === errorCodes.internalError) {
      log.error({ err: error, url: request.url, method: request.method }, 'unhandled error');
    }
    return reply.status(entry.httpStatus).send({ status: 'error', code: entry.code, message, request_id: newRequestId() });
  };
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  const entry = errorCodes.unsupportedEndpoint;
  return reply.status(entry.httpStatus).send({ status: 'error', code: entry.code, message: entry.message, request_id: newRequestId() });
}
