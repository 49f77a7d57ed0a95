"""The JavaScript that calls a codec script's functions inside the sandbox.

It is evaluated before the script, so it keeps its own references to ``JSON`` and the other
built-ins it uses (a script that replaces them does not change how results are checked), and it
looks the script's functions up by name at each call, which also finds ``const`` declarations.

``__codecRun(op, inputJson)`` returns a JSON text, one of:

- ``{"data": {...}, "warnings": [...], "errors": [...]}`` for ``decode_uplink`` and
  ``decode_downlink``;
- ``{"bytes": [...], "fPort": n | null, "warnings": [...], "errors": [...]}`` for
  ``encode_downlink``;
- ``{"error": "one line", "fatal": bool, "kind": "script" | "output"}`` when the script threw
  (``script``) or returned something that is not the documented shape or not JSON data
  (``output``); ``fatal`` says the heap may be exhausted and the context should be dropped.

Function shapes, tried in order: ChirpStack v4 / The Things Stack v3 ``decodeUplink(input)``,
``encodeDownlink(input)`` and ``decodeDownlink(input)``; ChirpStack v3 ``Decode(fPort, bytes,
variables)`` and ``Encode(fPort, obj, variables)``; The Things Network v2 ``Decoder(bytes,
port)`` and ``Encoder(object, port)``.
"""

from __future__ import annotations

HARNESS_JS = r"""
var __codecRun = (function (G) {
  "use strict";
  var parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
  var objectKeys = Object.keys, isView = ArrayBuffer.isView, apply = Reflect.apply;
  var DateCtor = Date, dateGetTime = Date.prototype.getTime;
  var dateToISO = Date.prototype.toISOString, ErrorCtor = Error, StringCtor = String;
  var ArrayBufferCtor = ArrayBuffer, DataViewCtor = DataView, U8 = Uint8Array;
  var InternalErrorCtor = typeof InternalError === "function" ? InternalError : null;
  var MAX_DEPTH = 32, MAX_NODES = 100000, MAX_CHARS = 1048576, MAX_MESSAGES = 100;

  function Rejected(message, kind) { this.message = message; this.kind = kind || "output"; }

  function kindOf(value) {
    if (value === null) return "null";
    if (value === undefined) return "undefined";
    if (isArray(value)) return "an array";
    var type = typeof value;
    return type === "object" ? "an object" : type === "function" ? "a function" : "a " + type;
  }

  function clean(value, path, depth, budget) {
    var type = typeof value;
    if (++budget.nodes > MAX_NODES)
      throw new Rejected("the result has more than " + MAX_NODES + " values");
    if (value === null || type === "boolean") return value;
    if (type === "undefined") return undefined;
    if (type === "string") {
      budget.chars += value.length;
      if (budget.chars > MAX_CHARS) throw new Rejected("the result is larger than 1 MiB of text");
      return value;
    }
    if (type === "number") {
      if (value !== value || value === Infinity || value === -Infinity)
        throw new Rejected(path + " is " + value + ", which is not a JSON number");
      return value;
    }
    if (type === "function") throw new Rejected(path + " is a function, not data");
    if (type !== "object") throw new Rejected(path + " is a " + type + ", not JSON data");
    if (depth > MAX_DEPTH)
      throw new Rejected(path + " is nested more than " + MAX_DEPTH + " levels deep (a cycle?)");
    var out, i;
    if (value instanceof DateCtor) {
      if (apply(dateGetTime, value, []) !== apply(dateGetTime, value, []))
        throw new Rejected(path + " is an invalid Date");
      return apply(dateToISO, value, []);
    }
    if (value instanceof ArrayBufferCtor) value = new U8(value);
    if (isView(value)) {
      if (value instanceof DataViewCtor) throw new Rejected(path + " is a DataView, not data");
      out = [];
      for (i = 0; i < value.length; i++) out[i] = clean(value[i], path + "[" + i + "]", depth + 1,
                                                        budget);
      return out;
    }
    if (isArray(value)) {
      out = [];
      for (i = 0; i < value.length; i++) {
        var item = clean(value[i], path + "[" + i + "]", depth + 1, budget);
        out[i] = item === undefined ? null : item;
      }
      return out;
    }
    out = {};
    var keys = objectKeys(value);
    for (i = 0; i < keys.length; i++) {
      var member = clean(value[keys[i]], path + "." + keys[i], depth + 1, budget);
      if (member !== undefined) out[keys[i]] = member;
    }
    return out;
  }

  function messages(list, what) {
    if (list === undefined || list === null) return [];
    if (!isArray(list))
      throw new Rejected(what + " must be a list of strings, got " + kindOf(list));
    var out = [];
    for (var i = 0; i < list.length && i < MAX_MESSAGES; i++) {
      var text = typeof list[i] === "string" ? list[i] : stringify(clean(list[i], what, 0,
                                                                          { nodes: 0, chars: 0 }));
      out[i] = text === undefined ? "undefined" : StringCtor(text).slice(0, 1000);
    }
    return out;
  }

  function dataObject(value, source) {
    if (value === undefined) throw new Rejected(source + " returned no data");
    var data = clean(value, "data", 0, { nodes: 0, chars: 0 });
    if (data === null || typeof data !== "object" || isArray(data))
      throw new Rejected(source + " returned " + kindOf(value) + " as data, not an object");
    return data;
  }

  function byteList(value, source) {
    if (value === undefined || value === null) throw new Rejected(source + " returned no bytes");
    if (value instanceof ArrayBufferCtor) value = new U8(value);
    if (!isArray(value) && !isView(value))
      throw new Rejected(source + " returned " + kindOf(value) + " as bytes, not a list");
    if (value.length > 255)
      throw new Rejected(source + " returned " + value.length + " bytes; at most 255 fit a frame");
    var out = [];
    for (var i = 0; i < value.length; i++) {
      var b = value[i];
      if (typeof b !== "number" || b !== Math.floor(b) || b < -128 || b > 255)
        throw new Rejected("bytes[" + i + "] is " + StringCtor(b) + ", not a byte");
      out[i] = b & 0xff;
    }
    return out;
  }

  function port(value, source) {
    if (value === undefined || value === null) return null;
    if (typeof value !== "number" || value !== Math.floor(value) || value < 1 || value > 223)
      throw new Rejected(source + " returned fPort " + StringCtor(value) + ", not 1..223");
    return value;
  }

  function resultObject(out, source) {
    if (out === null || typeof out !== "object" || isArray(out))
      throw new Rejected(source + " returned " + kindOf(out) + ", not an object");
    return out;
  }

  function decoded(out, source) {
    out = resultObject(out, source);
    var errors = messages(out.errors, "errors");
    var warnings = messages(out.warnings, "warnings");
    if (errors.length) return { data: null, warnings: warnings, errors: errors };
    return { data: dataObject(out.data, source), warnings: warnings, errors: [] };
  }

  function runDecodeUplink(input) {
    var recvTime = new DateCtor(input.recvTime);
    if (typeof decodeUplink === "function")
      return decoded(decodeUplink({ bytes: input.bytes, fPort: input.fPort, recvTime: recvTime,
                                    variables: input.variables }), "decodeUplink");
    if (typeof Decode === "function")
      return { data: dataObject(Decode(input.fPort, input.bytes, input.variables), "Decode"),
               warnings: [], errors: [] };
    if (typeof Decoder === "function")
      return { data: dataObject(Decoder(input.bytes, input.fPort), "Decoder"), warnings: [],
               errors: [] };
    throw new Rejected("the script defines no decodeUplink(input), Decode(fPort, bytes, " +
                       "variables) or Decoder(bytes, port) function", "script");
  }

  function runDecodeDownlink(input) {
    if (typeof decodeDownlink === "function")
      return decoded(decodeDownlink({ bytes: input.bytes, fPort: input.fPort,
                                      variables: input.variables }), "decodeDownlink");
    throw new Rejected("the script defines no decodeDownlink(input) function", "script");
  }

  function runEncodeDownlink(input) {
    var out;
    if (typeof encodeDownlink === "function") {
      out = resultObject(encodeDownlink({ data: input.data, fPort: input.fPort,
                                          variables: input.variables }), "encodeDownlink");
      var errors = messages(out.errors, "errors");
      var warnings = messages(out.warnings, "warnings");
      if (errors.length) return { bytes: null, fPort: null, warnings: warnings, errors: errors };
      return { bytes: byteList(out.bytes, "encodeDownlink"), fPort: port(out.fPort,
               "encodeDownlink"), warnings: warnings, errors: [] };
    }
    if (typeof Encode === "function")
      return { bytes: byteList(Encode(input.fPort, input.data, input.variables), "Encode"),
               fPort: null, warnings: [], errors: [] };
    if (typeof Encoder === "function")
      return { bytes: byteList(Encoder(input.data, input.fPort), "Encoder"), fPort: null,
               warnings: [], errors: [] };
    throw new Rejected("the script defines no encodeDownlink(input), Encode(fPort, obj, " +
                       "variables) or Encoder(object, port) function", "script");
  }

  function firstLine(text) {
    var s = StringCtor(text);
    var cut = s.indexOf("\n");
    return cut < 0 ? s : s.slice(0, cut);
  }

  // QuickJS throws null, or an uninitialized value, when the heap is too full to build an
  // error object; a script throwing null itself is rare enough to read it the same way.
  function exhausted(error) {
    var type = typeof error;
    return error === null || (type !== "object" && type !== "string" && type !== "number" &&
                              type !== "boolean" && type !== "undefined" && type !== "function" &&
                              type !== "symbol" && type !== "bigint");
  }

  function describe(error) {
    if (exhausted(error)) return "threw null, most likely because it ran out of memory";
    if (error instanceof Rejected) return error.message;
    if (error instanceof ErrorCtor) {
      var where = "";
      var frame = /at ([^ ]+) \(<input>:(\d+)/.exec(StringCtor(error.stack));
      if (frame) where = " (in " + frame[1] + ", line " + frame[2] + ")";
      return firstLine(error.name + ": " + error.message) + where;
    }
    var shown;
    try { shown = typeof error === "string" ? stringify(error) : StringCtor(error); }
    catch (e) { shown = typeof error; }
    return "threw " + firstLine(shown);
  }

  var OPS = { decode_uplink: runDecodeUplink, decode_downlink: runDecodeDownlink,
              encode_downlink: runEncodeDownlink };

  return function (op, inputJson) {
    try {
      return stringify(OPS[op](parse(inputJson)));
    } catch (error) {
      var fatal = exhausted(error) ||
                  (InternalErrorCtor !== null && error instanceof InternalErrorCtor);
      var kind = error instanceof Rejected ? error.kind : "script";
      return stringify({ error: describe(error).slice(0, 500), fatal: fatal, kind: kind });
    }
  };
})(globalThis);
"""
