package ai.behemoth.serve;

/**
 * What the scheduler tells a request's handler: a token of choice {@code choice} (its visible
 * {@code text}, possibly empty, and its log-probabilities when asked for), the choice's end
 * ({@code finishReason} set), or the whole request's failure ({@code error} set).
 */
record Event(int choice, String text, Logprobs.Entry logprob, String finishReason, ApiException error) {
    static Event failure(ApiException error) {
        return new Event(-1, "", null, null, error);
    }
}
