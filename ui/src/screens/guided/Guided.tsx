// The guided flow: a start screen asking what the user is doing, then the steps of that
// workflow in oc-mirror's order with a stepper showing what is done and what is next. Every
// screen of the app stays reachable from the navigation; this flow only puts them in order.
import type { ComponentType } from "react";
import {
  Button,
  Card,
  CardBody,
  CardFooter,
  CardTitle,
  Content,
  PageSection,
  ProgressStep,
  ProgressStepper,
  Title,
} from "@patternfly/react-core";
import { MODES, STEP_TITLES, stepsOf, useGuided, type GuidedApi, type StepId } from "./model";
import { StepCredentials, StepImageSet, StepPlan } from "./StepsPrepare";
import { StepDestination } from "./StepDestination";
import { StepRun } from "./StepRun";
import { StepResults } from "./StepResults";

function Start({ api }: { api: GuidedApi }) {
  return (
    <PageSection>
      <Title headingLevel="h2">What are you doing?</Title>
      <Content component="p">
        Ferry walks you through it step by step. The screens in the navigation stay available if you know the way.
      </Content>
      <div className="ferry-start-grid" data-testid="start">
        {MODES.map((m) => (
          <Card key={m.id} isFullHeight>
            <CardTitle>{m.title}</CardTitle>
            <CardBody>{m.body}</CardBody>
            <CardFooter>
              <Button variant="primary" onClick={() => api.start(m.id)} data-testid={`mode-${m.id}`}>
                Start: {m.title.toLowerCase()}
              </Button>
            </CardFooter>
          </Card>
        ))}
      </div>
    </PageSection>
  );
}

function Stepper({ api }: { api: GuidedApi }) {
  const { g } = api;
  if (!g.mode) return null;
  const steps = stepsOf(g.mode);
  const current = steps.indexOf(g.step);
  return (
    <ProgressStepper aria-label="Steps" className="ferry-guided-stepper" data-testid="stepper">
      {steps.map((s, i) => {
        const done = g.done.includes(s);
        const state = s === g.step ? "current" : done ? "done" : "next";
        return (
          <ProgressStep
            key={s}
            id={`step-${s}`}
            titleId={`step-${s}-title`}
            variant={s === g.step ? "info" : done ? "success" : "pending"}
            isCurrent={s === g.step}
            description={state === "current" ? "Now" : done ? "Done" : i === current + 1 ? "Next" : undefined}
            data-testid={`step-${s}`}
            data-state={state}
          >
            {/* Done steps can be opened again; later ones only after the steps before them. */}
            {done && s !== g.step ? (
              <Button variant="link" isInline onClick={() => api.update({ step: s })}>
                {STEP_TITLES[s]}
              </Button>
            ) : (
              STEP_TITLES[s]
            )}
          </ProgressStep>
        );
      })}
    </ProgressStepper>
  );
}

const BODY: Record<StepId, ComponentType<{ api: GuidedApi }>> = {
  credentials: StepCredentials,
  imageset: StepImageSet,
  plan: StepPlan,
  destination: StepDestination,
  run: StepRun,
  results: StepResults,
};

export function GuidedScreen() {
  const api = useGuided();
  const { g } = api;
  if (!g.mode) return <Start api={api} />;
  const mode = MODES.find((m) => m.id === g.mode)!;
  const Body = BODY[g.step];
  return (
    <PageSection data-testid="guided" data-mode={g.mode}>
      <div className="ferry-row" style={{ justifyContent: "space-between", alignItems: "center" }}>
        <Title headingLevel="h2">{mode.title}</Title>
        <Button variant="link" onClick={api.restart} data-testid="guided-restart">
          Choose another workflow
        </Button>
      </div>
      <Stepper api={api} />
      <div data-testid={`guided-${g.step}`}>
        <Body api={api} />
      </div>
    </PageSection>
  );
}
