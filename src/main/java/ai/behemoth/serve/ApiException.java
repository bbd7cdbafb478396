package ai.behemoth.serve;

/**
 * A request the server refuses or cannot finish, answered as OpenAI's error JSON
 * {@code {"error": {"message", "type", "param", "code"}}} with {@code status}. The message is for
 * the client: it names the field or value, and never carries a stack trace.
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type, param, code;

    ApiException(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400: a field is missing, of the wrong type, or out of range. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }
}
