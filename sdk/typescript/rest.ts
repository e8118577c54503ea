// Types that turn the generated OpenAPI `paths` (generated/openapi.ts, from docs/openapi.json)
// into typed REST calls: a path that does not exist, a method the path lacks, a wrong query
// parameter or body field is a compile error, and the answer is the documented 2xx JSON.
import type { paths } from "./generated/openapi.ts";

export type { paths } from "./generated/openapi.ts";
export type Method = "get" | "post" | "put" | "delete" | "patch";

/** The paths that have `method`. */
export type PathsFor<M extends Method> = { [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never }[keyof paths];
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : unknown;
/** The first documented success answer (200, then 201, then 202). */
export type SuccessBody<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : 202 extends keyof R
        ? JsonOf<R[202]>
        : unknown
  : never;

type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? ([Q] extends [undefined] ? never : NonNullable<Q>) : never;
type PathParamsOf<O> = O extends { parameters: { path: infer Q } } ? ([Q] extends [undefined] ? never : NonNullable<Q>) : never;
type JsonBodyOf<O> = O extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** What a call may carry: the path parameters (`{id}`), the query and the JSON body its operation documents. */
export type RequestOptions<O> = ([PathParamsOf<O>] extends [never] ? { path?: never } : { path: PathParamsOf<O> }) & {
  query?: QueryOf<O>;
  body?: JsonBodyOf<O>;
};
