/**
 * `@peculiar/x509` resolves its algorithms through tsyringe, which refuses to load unless the
 * `reflect-metadata` API exists. That package is not a dependency of this project (and helpers may
 * not install packages), so this is the smallest stand-in for the three functions tsyringe calls:
 * getMetadata, getOwnMetadata, defineMetadata. x509's classes are not compiled with
 * `emitDecoratorMetadata`, so nothing ever reads design-time types through it. If the project
 * adds `reflect-metadata`, import that instead and delete this file.
 */
type Key = unknown;
const store = new WeakMap<object, Map<Key, unknown>>();

function own(target: object, create: boolean): Map<Key, unknown> | undefined {
    let map = store.get(target);
    if (!map && create) {
        map = new Map();
        store.set(target, map);
    }
    return map;
}

interface ReflectMetadata {
    getMetadata?: (key: Key, target: object) => unknown;
    getOwnMetadata?: (key: Key, target: object) => unknown;
    defineMetadata?: (key: Key, value: unknown, target: object) => void;
}

const reflect = Reflect as unknown as ReflectMetadata;
if (typeof reflect.getMetadata !== "function") {
    reflect.defineMetadata = (key, value, target) => {
        own(target, true)?.set(key, value);
    };
    reflect.getOwnMetadata = (key, target) => own(target, false)?.get(key);
    reflect.getMetadata = (key, target) => {
        for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
            const map = own(t, false);
            if (map?.has(key)) return map.get(key);
        }
        return undefined;
    };
}

export {};
