package ai.behemoth.generate;

/** Why a generation ended. */
public enum FinishReason {
    /** an end-of-text token or a stop string */
    STOP,
    /** max tokens generated, or the context is full */
    LENGTH,
    /** {@link Generation#cancel()} was called */
    CANCELLED
}
