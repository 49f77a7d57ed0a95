// ACME VALVE-3, written for ChirpStack v3: Decode(fPort, bytes, variables) and Encode(fPort, obj, variables).
// Uplink port 5: byte 0 = valve state (0 closed, 1 open), bytes 1-2 = flow in l/min (uint16 BE).

function Decode(fPort, bytes, variables) {
  return {
    open: bytes[0] === 1,
    flow: (bytes[1] << 8) | bytes[2],
    site: variables.site || null,
  };
}

function Encode(fPort, obj, variables) {
  return [obj.open ? 1 : 0];
}
