/** A class that can be instantiated: what type-graphql asks the container for. */
type ClassOf<T> = abstract new (...args: never[]) => T;

/**
 * The services and resolver instances of one server, by class, built by the modules with their
 * dependencies passed to their constructors. type-graphql's container getter reads it from the
 * context, so two servers in one process (the multi-instance tests) each use their own.
 */
export class Container {
  private readonly instances = new Map<unknown, unknown>();

  /** @throws Error when an instance of the same class was added already (a wiring bug). */
  add<T extends object>(instance: T): this {
    if (this.instances.has(instance.constructor))
      throw new Error(`${instance.constructor.name} is in the container twice`);
    this.instances.set(instance.constructor, instance);
    return this;
  }

  /** @throws Error when no instance of `cls` was added (a wiring bug, not a client error). */
  get<T>(cls: ClassOf<T>): T {
    const instance = this.instances.get(cls);
    if (!instance) throw new Error(`no instance of ${cls.name} in the container`);
    return instance as T;
  }
}
