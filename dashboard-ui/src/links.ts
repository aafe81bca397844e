/**
 * In-app addresses. A payment id is free UTF-8 (it may hold "/", "?" or
 * "#"), so it travels as a query parameter rather than a path segment.
 */
export function paymentPath(projectId: number | string, paymentId: string): string {
  return `/payments/${projectId}/payment?${new URLSearchParams({ id: paymentId })}`;
}

export function batchPath(projectId: number | string, batchId: number | string): string {
  return `/mass-payouts/${projectId}/${batchId}`;
}
