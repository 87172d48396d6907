// CloudFront Function (runtime cloudfront-js-2.0), viewer-request event of the /images/* behaviour.
//
// Turns a viewer request such as
//   GET /images/media/u1/p.jpg?width=500&quality=83&utm_source=x   (Accept: image/avif,image/webp,*/*)
// into the normalized URI the transformed-images bucket and the image-transform Lambda both understand:
//   /images/media/u1/p.jpg/f=avif,w=640,q=80
// and drops every query string, so that the cache key is the URI alone and holds at most
// (3 formats x |widths|+1 x |qualities|) variants per original.
//
// The CONFIG line below is replaced at synth time by the ConnectHubImageOptimization construct with the
// values from its props (same shape); the values written here are the defaults, used by the tests.
// Keep this file ES5.1-compatible plus what cloudfront-js-2.0 supports; no module syntax.

var CONFIG = {"prefix":"/images/","widths":[160,320,480,640,750,828,1080,1280,1920,2560],"minQuality":40,"maxQuality":90,"qualityStep":5,"defaultQuality":75,"maxKeyLength":900};

// Accept parsing: a media type counts when it is listed without q=0.
function accepts(acceptHeader, mediaType) {
    var parts = acceptHeader.toLowerCase().split(',');
    for (var i = 0; i < parts.length; i++) {
        var fields = parts[i].split(';');
        if (fields[0].trim() !== mediaType) continue;
        var q = 1;
        for (var j = 1; j < fields.length; j++) {
            var kv = fields[j].trim().split('=');
            if (kv[0] === 'q' && kv.length === 2) {
                q = parseFloat(kv[1]);
                if (isNaN(q)) q = 1;
            }
        }
        return q > 0;
    }
    return false;
}

function negotiateFormat(headers) {
    var accept = headers && headers.accept && headers.accept.value ? headers.accept.value : '';
    if (accepts(accept, 'image/avif')) return 'avif';
    if (accepts(accept, 'image/webp')) return 'webp';
    return 'jpeg';
}

// Smallest allowed width >= the requested one; requests above the largest get the largest.
function snapWidth(raw) {
    if (raw === undefined || raw === null || raw === '') return 0;
    if (!/^[0-9]{1,6}$/.test(String(raw))) return 0;
    var requested = parseInt(raw, 10);
    if (requested <= 0) return 0;
    for (var i = 0; i < CONFIG.widths.length; i++) {
        if (CONFIG.widths[i] >= requested) return CONFIG.widths[i];
    }
    return CONFIG.widths[CONFIG.widths.length - 1];
}

// Quality rounded to the nearest step, then clamped to [minQuality, maxQuality]; junk → default.
function boundQuality(raw) {
    if (raw === undefined || raw === null || raw === '' || !/^[0-9]{1,3}$/.test(String(raw))) return CONFIG.defaultQuality;
    var q = Math.round(parseInt(raw, 10) / CONFIG.qualityStep) * CONFIG.qualityStep;
    if (q < CONFIG.minQuality) q = CONFIG.minQuality;
    if (q > CONFIG.maxQuality) q = CONFIG.maxQuality;
    return q;
}

function queryValue(querystring, name) {
    if (!querystring) return undefined;
    var entry = querystring[name];
    if (!entry) return undefined;
    // A repeated parameter arrives as { value, multiValue: [...] }: the first one wins.
    if (entry.multiValue && entry.multiValue.length > 0) return entry.multiValue[0].value;
    return entry.value;
}

function badRequest(reason) {
    return {
        statusCode: 400,
        statusDescription: 'Bad Request',
        headers: {
            'content-type': { value: 'text/plain; charset=utf-8' },
            'cache-control': { value: 'no-store' }
        },
        body: reason
    };
}

function handler(event) {
    var request = event.request;
    var uri = request.uri || '';
    if (uri.indexOf(CONFIG.prefix) !== 0) return request;
    var key = uri.substring(CONFIG.prefix.length);
    if (key.length === 0 || key.charAt(key.length - 1) === '/') {
        return badRequest('image path is empty: use ' + CONFIG.prefix + '<media object key>');
    }
    if (key.length > CONFIG.maxKeyLength) {
        return badRequest('image path is longer than ' + CONFIG.maxKeyLength + ' characters');
    }
    var segments = key.split('/');
    for (var i = 0; i < segments.length; i++) {
        if (segments[i] === '' || segments[i] === '.' || segments[i] === '..') {
            return badRequest('image path must not contain empty, "." or ".." segments');
        }
    }
    // A last segment that already looks like normalized operations would let a viewer pick an
    // arbitrary variant name; refuse it instead of producing a second, ambiguous cache key.
    if (/^f=/.test(segments[segments.length - 1])) {
        return badRequest('image path must not end in an operations segment (f=...)');
    }

    var format = negotiateFormat(request.headers);
    var width = snapWidth(queryValue(request.querystring, 'width') || queryValue(request.querystring, 'w'));
    var quality = boundQuality(queryValue(request.querystring, 'quality') || queryValue(request.querystring, 'q'));

    var ops = 'f=' + format + (width > 0 ? ',w=' + width : '') + ',q=' + quality;
    request.uri = CONFIG.prefix + key + '/' + ops;
    request.querystring = {};
    return request;
}
