/**
 * What went wrong with each of the utility's resources, kept until that resource is next read or
 * posted successfully (client.ts). `lastError` alone was overwritten by the next failure anywhere:
 * a DERControlList refused for a bad mRID vanished behind a 404 elsewhere a moment later, and the
 * operator never learned why an event did not arrive. One entry per resource, so a failure repeated
 * at every retry counts up instead of flooding; bounded, since the server names the resources.
 */

/** Entries kept at most; the one seen longest ago goes first. */
export const MAX_PROBLEMS = 20;
/** A resource name or message is cut to this many characters (the server chooses hrefs and values). */
export const MAX_PROBLEM_TEXT = 400;

export interface Problem {
  /** The resource's href (without paging query), or what failed when it is not one resource. */
  readonly resource: string;
  /** The latest failure's message. */
  readonly message: string;
  /** The first failure since the resource last succeeded, and the latest (the Clock's ms). */
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** Failures since the resource last succeeded. */
  readonly count: number;
}

const cut = (s: string): string => (s.length > MAX_PROBLEM_TEXT ? `${s.slice(0, MAX_PROBLEM_TEXT - 1)}…` : s);

/** A list's pages (`?s=…&l=…`) are one resource. */
export const resourceOf = (href: string): string => {
  const q = href.indexOf('?');
  return cut(q < 0 ? href : href.slice(0, q));
};

export class ProblemLog {
  /** In order of the latest failure, oldest first (a Map keeps insertion order). */
  private readonly byResource = new Map<string, Problem>();

  constructor(private readonly max = MAX_PROBLEMS) {}

  note(href: string, message: string, atMs: number): void {
    const resource = resourceOf(href);
    const had = this.byResource.get(resource);
    this.byResource.delete(resource);
    this.byResource.set(resource, {
      resource,
      message: cut(message),
      firstSeenAt: had?.firstSeenAt ?? atMs,
      lastSeenAt: atMs,
      count: (had?.count ?? 0) + 1,
    });
    for (const old of this.byResource.keys()) {
      if (this.byResource.size <= this.max) break;
      this.byResource.delete(old);
    }
  }

  /** The resource answered as it should: its problem is over. */
  clear(href: string): void {
    this.byResource.delete(resourceOf(href));
  }

  /** Newest first. */
  list(): Problem[] {
    return [...this.byResource.values()].reverse();
  }
}
