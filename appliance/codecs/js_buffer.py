"""A small Node.js-style ``Buffer`` for codec scripts, written in JavaScript.

Vendor codecs written for ChirpStack or The Things Stack use ``Buffer`` to read numbers and to
turn bytes into hex or base64. This is enough of Node's API for them: ``Buffer.from`` (array,
typed array, ArrayBuffer, string in hex/base64/base64url/utf8/ascii/latin1/binary),
``Buffer.alloc``, ``concat``, ``isBuffer``, ``byteLength``, ``compare``; on instances the
``read*``/``write*`` integer, float, double and BigInt methods (both endiannesses, with Node's
range checks), ``readUIntBE``-style variable widths, ``toString(encoding, start, end)``,
``slice``/``subarray`` (views, as in Node), ``equals``, ``compare``, ``copy``, ``write``,
``toJSON``. A ``Buffer`` is a ``Uint8Array``; ``Buffer(x)`` works with or without ``new``.
"""

from __future__ import annotations

BUFFER_JS = r"""
(function (global) {
  "use strict";
  var U8 = Uint8Array;
  var setProto = Object.setPrototypeOf;
  var HEX = "0123456789abcdef";
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var B64_VALUE = {};
  for (var i = 0; i < 64; i++) { B64_VALUE[B64[i]] = i; B64_VALUE[B64URL[i]] = i; }

  function wrap(u8) { return setProto(u8, Buffer.prototype); }

  function Buffer(value, encodingOrOffset, length) {
    if (typeof value === "number") return Buffer.alloc(value);
    return Buffer.from(value, encodingOrOffset, length);
  }
  setProto(Buffer.prototype, U8.prototype);
  setProto(Buffer, U8);
  Object.defineProperty(Buffer, Symbol.species, { value: U8 });

  function normalEncoding(encoding) {
    var e = String(encoding === undefined ? "utf8" : encoding).toLowerCase();
    if (e === "utf-8") return "utf8";
    if (e === "binary") return "latin1";
    if (e === "hex" || e === "utf8" || e === "ascii" || e === "latin1" || e === "base64" ||
        e === "base64url") return e;
    throw new TypeError("Unknown encoding: " + encoding);
  }

  function utf8Bytes(text) {
    var out = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63),
                    0x80 | (c & 63));
    }
    return out;
  }

  function utf8Text(bytes, start, end) {
    var out = "";
    var i = start;
    while (i < end) {
      var b = bytes[i];
      var need = b < 0x80 ? 0 : b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 ? 1 : -1;
      var code = need === 0 ? b : need === 1 ? b & 31 : need === 2 ? b & 15 : b & 7;
      var ok = need >= 0 && i + need < end;
      for (var k = 1; ok && k <= need; k++) {
        if ((bytes[i + k] & 0xc0) !== 0x80) ok = false;
        else code = (code << 6) | (bytes[i + k] & 63);
      }
      if (ok && need >= 2 && (code < (need === 2 ? 0x800 : 0x10000) || code > 0x10ffff ||
                              (code >= 0xd800 && code <= 0xdfff))) ok = false;
      if (!ok) { out += "\ufffd"; i++; continue; }
      out += String.fromCodePoint(code);
      i += need + 1;
    }
    return out;
  }

  function hexBytes(text) {
    var out = [];
    for (var i = 0; i + 1 < text.length; i += 2) {
      var high = HEX.indexOf(text[i].toLowerCase()), low = HEX.indexOf(text[i + 1].toLowerCase());
      if (high < 0 || low < 0) break;  // Node stops at the first pair that is not hex
      out.push(high * 16 + low);
    }
    return out;
  }

  function base64Bytes(text) {
    var out = [], bits = 0, count = 0;
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (ch === "=") break;
      var v = B64_VALUE[ch];
      if (v === undefined) continue;  // whitespace and strays are skipped, as in Node
      bits = (bits << 6) | v; count += 6;
      if (count >= 8) { count -= 8; out.push((bits >> count) & 0xff); }
    }
    return out;
  }

  function base64Text(bytes, start, end, alphabet, pad) {
    var out = "";
    for (var i = start; i < end; i += 3) {
      var n = (bytes[i] << 16) | ((i + 1 < end ? bytes[i + 1] : 0) << 8) |
              (i + 2 < end ? bytes[i + 2] : 0);
      out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63];
      out += i + 1 < end ? alphabet[(n >> 6) & 63] : pad ? "=" : "";
      out += i + 2 < end ? alphabet[n & 63] : pad ? "=" : "";
    }
    return out;
  }

  function stringBytes(text, encoding) {
    switch (normalEncoding(encoding)) {
      case "hex": return hexBytes(text);
      case "base64": case "base64url": return base64Bytes(text);
      case "ascii": case "latin1": {
        var out = new Array(text.length);
        for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
        return out;
      }
      default: return utf8Bytes(text);
    }
  }

  Buffer.from = function (value, encodingOrOffset, length) {
    if (typeof value === "string") return wrap(new U8(stringBytes(value, encodingOrOffset)));
    if (value instanceof ArrayBuffer) {
      var offset = encodingOrOffset === undefined ? 0 : encodingOrOffset >>> 0;
      var size = length === undefined ? value.byteLength - offset : length >>> 0;
      return wrap(new U8(value, offset, size));
    }
    if (value && typeof value === "object" && value.type === "Buffer" && Array.isArray(value.data))
      return wrap(new U8(value.data));
    if (value && typeof value === "object" && typeof value.length === "number")
      return wrap(new U8(value));  // arrays, typed arrays, Buffers and array-likes are copied
    throw new TypeError("Buffer.from takes a string, an array, a typed array or an ArrayBuffer");
  };
  Buffer.alloc = function (size, fill, encoding) {
    var buf = wrap(new U8(checkedSize(size)));
    if (fill !== undefined) buf.fill(fill, 0, buf.length, encoding);
    return buf;
  };
  Buffer.allocUnsafe = function (size) { return wrap(new U8(checkedSize(size))); };
  Buffer.isBuffer = function (value) { return value instanceof Buffer; };
  Buffer.isEncoding = function (encoding) {
    try { normalEncoding(encoding); return true; } catch (e) { return false; }
  };
  Buffer.byteLength = function (value, encoding) {
    return typeof value === "string" ? stringBytes(value, encoding).length : value.byteLength;
  };
  Buffer.concat = function (list, totalLength) {
    var total = 0;
    for (var i = 0; i < list.length; i++) total += list[i].length;
    var out = Buffer.alloc(totalLength === undefined ? total : totalLength);
    var at = 0;
    for (var j = 0; j < list.length && at < out.length; j++) {
      var part = list[j];
      for (var k = 0; k < part.length && at < out.length; k++) out[at++] = part[k];
    }
    return out;
  };
  Buffer.compare = function (a, b) { return Buffer.prototype.compare.call(a, b); };

  function checkedSize(size) {
    if (typeof size !== "number" || size < 0 || size !== Math.floor(size) || size > 0x1000000)
      throw new RangeError("The buffer size must be an integer 0..16777216, got " + size);
    return size;
  }

  function checkOffset(buf, offset, width) {
    if (offset === undefined) offset = 0;
    if (typeof offset !== "number" || offset !== Math.floor(offset) || offset < 0 ||
        offset + width > buf.length)
      throw new RangeError("The value of \"offset\" is out of range. It must be >= 0 and <= " +
                           (buf.length - width) + ". Received " + offset);
    return offset;
  }

  function view(buf) { return new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }

  var P = Buffer.prototype;
  function defineNumber(name, width, getter, setter, little, low, high) {
    P["read" + name] = function (offset) {
      offset = checkOffset(this, offset, width);
      return view(this)[getter](offset, little);
    };
    P["write" + name] = function (value, offset) {
      offset = checkOffset(this, offset, width);
      if (low !== undefined && (typeof value !== "number" || value < low || value > high))
        throw new RangeError("The value of \"value\" is out of range. It must be >= " + low +
                             " and <= " + high + ". Received " + value);
      view(this)[setter](offset, value, little);
      return offset + width;
    };
  }
  defineNumber("UInt8", 1, "getUint8", "setUint8", false, 0, 255);
  defineNumber("Int8", 1, "getInt8", "setInt8", false, -128, 127);
  var ENDS = [["LE", true], ["BE", false]];
  for (var e = 0; e < 2; e++) {
    var end = ENDS[e][0], little = ENDS[e][1];
    defineNumber("UInt16" + end, 2, "getUint16", "setUint16", little, 0, 0xffff);
    defineNumber("Int16" + end, 2, "getInt16", "setInt16", little, -0x8000, 0x7fff);
    defineNumber("UInt32" + end, 4, "getUint32", "setUint32", little, 0, 0xffffffff);
    defineNumber("Int32" + end, 4, "getInt32", "setInt32", little, -0x80000000, 0x7fffffff);
    defineNumber("Float" + end, 4, "getFloat32", "setFloat32", little);
    defineNumber("Double" + end, 8, "getFloat64", "setFloat64", little);
    defineNumber("BigUInt64" + end, 8, "getBigUint64", "setBigUint64", little);
    defineNumber("BigInt64" + end, 8, "getBigInt64", "setBigInt64", little);
  }
  // Node spells the unsigned readers both ways (readUInt8 and readUint8).
  Object.keys(P).forEach(function (key) {
    var m = /^(read|write)(U)Int(.*)$/.exec(key);
    if (m) P[m[1] + "Uint" + m[3]] = P[key];
    var big = /^(read|write)BigUInt64(.*)$/.exec(key);
    if (big) P[big[1] + "BigUint64" + big[2]] = P[key];
  });

  function readVariable(buf, offset, width, little, signed) {
    if (typeof width !== "number" || width < 1 || width > 6 || width !== Math.floor(width))
      throw new RangeError("The value of \"byteLength\" is out of range. It must be >= 1 and " +
                           "<= 6. Received " + width);
    offset = checkOffset(buf, offset, width);
    var value = 0;
    for (var i = 0; i < width; i++)
      value = value * 256 + buf[offset + (little ? width - 1 - i : i)];
    var top = Math.pow(2, 8 * width);
    return signed && value >= top / 2 ? value - top : value;
  }
  P.readUIntBE = function (o, w) { return readVariable(this, o, w, false, false); };
  P.readUIntLE = function (o, w) { return readVariable(this, o, w, true, false); };
  P.readIntBE = function (o, w) { return readVariable(this, o, w, false, true); };
  P.readIntLE = function (o, w) { return readVariable(this, o, w, true, true); };
  P.readUintBE = P.readUIntBE;
  P.readUintLE = P.readUIntLE;

  function span(buf, start, end) {
    var s = start === undefined ? 0 : Math.max(0, Math.min(buf.length, start | 0));
    var t = end === undefined ? buf.length : Math.max(s, Math.min(buf.length, end | 0));
    return [s, t];
  }

  P.toString = function (encoding, start, end) {
    var r = span(this, start, end);
    switch (normalEncoding(encoding)) {
      case "hex": {
        var out = "";
        for (var i = r[0]; i < r[1]; i++) out += HEX[this[i] >> 4] + HEX[this[i] & 15];
        return out;
      }
      case "base64": return base64Text(this, r[0], r[1], B64, true);
      case "base64url": return base64Text(this, r[0], r[1], B64URL, false);
      case "ascii": case "latin1": {
        var text = "";
        var mask = normalEncoding(encoding) === "ascii" ? 0x7f : 0xff;
        for (var j = r[0]; j < r[1]; j++) text += String.fromCharCode(this[j] & mask);
        return text;
      }
      default: return utf8Text(this, r[0], r[1]);
    }
  };
  P.toJSON = function () { return { type: "Buffer", data: Array.prototype.slice.call(this) }; };
  P.subarray = function (start, end) {
    return wrap(U8.prototype.subarray.call(this, start, end));
  };
  P.slice = P.subarray;  // a view, as in Node
  P.equals = function (other) { return this.compare(other) === 0; };
  P.compare = function (other) {
    var n = Math.min(this.length, other.length);
    for (var i = 0; i < n; i++) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
    return this.length === other.length ? 0 : this.length < other.length ? -1 : 1;
  };
  P.copy = function (target, targetStart, sourceStart, sourceEnd) {
    var t = targetStart === undefined ? 0 : targetStart;
    var r = span(this, sourceStart, sourceEnd);
    var n = 0;
    for (var i = r[0]; i < r[1] && t + n < target.length; i++, n++) target[t + n] = this[i];
    return n;
  };
  P.write = function (text, offset, length, encoding) {
    if (typeof offset === "string") { encoding = offset; offset = 0; length = undefined; }
    else if (typeof length === "string") { encoding = length; length = undefined; }
    var at = offset === undefined ? 0 : offset;
    var bytes = stringBytes(text, encoding);
    var n = Math.min(bytes.length, this.length - at, length === undefined ? Infinity : length);
    for (var i = 0; i < n; i++) this[at + i] = bytes[i];
    return n;
  };
  var u8Fill = U8.prototype.fill;
  P.fill = function (value, start, end, encoding) {
    if (typeof start === "string") { encoding = start; start = 0; end = this.length; }
    if (typeof value === "string") {
      var bytes = stringBytes(value, encoding);
      var r = span(this, start, end);
      if (bytes.length === 0) return u8Fill.call(this, 0, r[0], r[1]);
      for (var i = r[0]; i < r[1]; i++) this[i] = bytes[(i - r[0]) % bytes.length];
      return this;
    }
    return u8Fill.call(this, value, start, end);
  };

  Object.defineProperty(global, "Buffer", {
    value: Buffer, writable: true, configurable: true, enumerable: false
  });
})(globalThis);
"""
