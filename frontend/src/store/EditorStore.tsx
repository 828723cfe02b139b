// The store of the workflow being edited, shared through context: one reducer
// (store/reducer.ts) that every component dispatches to.
import { createContext, useContext, useReducer, type Dispatch, type ReactNode } from 'react'
import { initialState, reducer, type Action, type EditorState } from './reducer'

const StoreContext = createContext<{ state: EditorState; dispatch: Dispatch<Action> } | null>(null)

export function EditorStoreProvider({ children }: { children: ReactNode }) {
  const [state, dispatch] = useReducer(reducer, initialState)
  return <StoreContext.Provider value={{ state, dispatch }}>{children}</StoreContext.Provider>
}

export function useEditorStore() {
  const value = useContext(StoreContext)
  if (!value) throw new Error('useEditorStore outside EditorStoreProvider')
  return value
}
