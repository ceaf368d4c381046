// A restricted pickle reader: a stack machine for the opcodes that torch.save emits for state
// dicts (protocol 2, plus the few protocol-4 framing opcodes), with no way to run code. Globals
// and persistent ids are resolved only through the caller's allowlist; every other opcode is an
// error. Opcode semantics follow CPython's Lib/pickletools.py documentation.

import { Cursor, decodeLong, PickleError } from './pickle-input.js';

export { PickleError } from './pickle-input.js';

/** A Python callable the caller allowed (e.g. collections.OrderedDict). */
export interface PickleCallable {
  readonly kind: 'callable';
  readonly qualifiedName: string;
  call(args: readonly PickleValue[]): PickleValue;
}

/** An object built by an allowed callable or persistent id (tensors, storages). */
export interface PickleObject {
  readonly kind: string;
}

export type PickleKey = string | number | bigint | boolean | null;
export type PickleValue =
  PickleKey | readonly PickleValue[] | PickleDict | PickleCallable | PickleObject;

/** Python dict / OrderedDict; insertion order is kept. */
export class PickleDict extends Map<PickleKey, PickleValue> {}

export interface PickleHooks {
  /** The value of `module.name` (a callable or a type), or throws a PickleError refusing it. */
  findGlobal(module: string, name: string): PickleValue;
  persistentLoad(pid: PickleValue): PickleValue;
}

function isKey(v: PickleValue): v is PickleKey {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);
}

export function describeValue(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof PickleDict) return 'dict';
  if (typeof v === 'object') return (v as PickleObject).kind;
  return typeof v;
}

export function unpickle(bytes: Uint8Array, hooks: PickleHooks): PickleValue {
  const c = new Cursor(bytes);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();

  const pop = (): PickleValue => {
    if (stack.length === 0 || stack.length <= (marks.at(-1) ?? -1)) {
      throw new PickleError(`stack underflow at byte ${c.pos - 1}`);
    }
    return stack.pop() as PickleValue;
  };
  const top = (): PickleValue => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${c.pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`no MARK before byte ${c.pos - 1}`);
    return stack.splice(m);
  };
  const tuple = (items: PickleValue[]): readonly PickleValue[] => Object.freeze(items);
  const getMemo = (i: number): PickleValue => {
    if (!memo.has(i)) throw new PickleError(`memo slot ${i} read before it was written`);
    return memo.get(i) as PickleValue;
  };
  const listAt = (): PickleValue[] => {
    const l = top();
    if (!Array.isArray(l) || Object.isFrozen(l)) {
      throw new PickleError(`APPEND to a ${describeValue(l)} at byte ${c.pos - 1}`);
    }
    return l as PickleValue[];
  };
  const setItems = (d: PickleValue, kv: PickleValue[]): void => {
    if (!(d instanceof PickleDict)) {
      throw new PickleError(`SETITEM on a ${describeValue(d)} at byte ${c.pos - 1}`);
    }
    if (kv.length % 2 !== 0) throw new PickleError(`odd SETITEMS count at byte ${c.pos - 1}`);
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (!isKey(k)) throw new PickleError(`dict key of type ${describeValue(k)} is not supported`);
      d.set(k, kv[i + 1]);
    }
  };

  for (;;) {
    const at = c.pos;
    const op = c.u8();
    switch (op) {
      case 0x80: // PROTO
        if (c.u8() > 5) throw new PickleError('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix only; the data follows inline
        c.u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) throw new PickleError('malformed pickle at STOP');
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
      case 0x89: // NEWFALSE
        stack.push(op === 0x88);
        break;
      case 0x4a: // BININT
        stack.push(c.i32());
        break;
      case 0x4b: // BININT1
        stack.push(c.u8());
        break;
      case 0x4d: // BININT2
        stack.push(c.u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(c.take(c.u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(c.take(c.i32())));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(c.f64be());
        break;
      case 0x58: // BINUNICODE
        stack.push(c.utf8(c.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(c.utf8(c.u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(c.utf8(c.u64()));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items: PickleValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(tuple(items));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PickleDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        listAt().push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        listAt().push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(c.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(c.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(getMemo(c.u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(getMemo(c.u32()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = c.line();
        stack.push(hooks.findGlobal(module, c.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new PickleError(`STACK_GLOBAL needs two strings at byte ${at}`);
        }
        stack.push(hooks.findGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args))
          throw new PickleError(`REDUCE arguments are not a tuple (byte ${at})`);
        if (typeof fn !== 'object' || fn === null || (fn as PickleCallable).kind !== 'callable') {
          throw new PickleError(`REDUCE on a ${describeValue(fn)} (byte ${at})`);
        }
        stack.push((fn as PickleCallable).call(args));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state). Only dicts take it here: OrderedDict state dicts carry
        // a `_metadata` attribute (module versions) that loading does not need.
        const state = pop();
        const obj = top();
        if (!(obj instanceof PickleDict) || !(state === null || state instanceof PickleDict)) {
          throw new PickleError(`BUILD on a ${describeValue(obj)} is not supported (byte ${at})`);
        }
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        throw new PickleError(
          `unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`,
        );
    }
  }
}
